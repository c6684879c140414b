// The triggers of the job and cron controllers: their queues, the cron fire queue, and which
// Job, CronJob and Instance events enqueue which keys.
import type { Instance } from '../../core/index.js';
import { WorkQueue } from '../../runtime/work-queue.js';
import type { Manager } from '../manager.js';
import { nsKey } from '../shared/queue-keys.js';
import { CRONJOB_LABEL, CronController } from './cron-controller.js';
import { FireQueue } from './fire-queue.js';
import { JobController } from './job-controller.js';

/** How long a Job's reconcile waits for more changes of its runs (a burst of status reports). */
const RUN_BURST_MS = 100;

type Named = { metadata: { namespace?: string | undefined; name: string } };

/**
 * - a Job added, changed or deleted: at once;
 * - one of its runs (an Instance with ownerKind Job) added, changed or deleted: after 100 ms.
 */
export function setupJobController(mgr: Manager): void {
  const queue = new WorkQueue();
  const enqueueJob = (j: Named) => queue.add(nsKey(j.metadata.namespace, j.metadata.name));
  mgr.informers.jobs.addHandlers({ onAdd: enqueueJob, onUpdate: (_o, j) => enqueueJob(j), onDelete: enqueueJob });
  const enqueueRunOwner = (i: Instance) => {
    if (i.spec.ownerKind === 'Job') queue.addAfter(nsKey(i.metadata.namespace, i.spec.service), RUN_BURST_MS);
  };
  mgr.informers.instances.addHandlers({ onAdd: enqueueRunOwner, onUpdate: (_o, i) => enqueueRunOwner(i), onDelete: enqueueRunOwner });
  const controller = new JobController({ store: mgr.store, events: mgr.events, logger: mgr.logger.child({ controller: 'job' }) });
  mgr.runQueue('job', queue, (key) => controller.reconcile(key), 2);
}

/**
 * - a CronJob added, changed or deleted: at once;
 * - its next time coming (FireQueue: a min-heap of every CronJob's next time, one timer);
 * - one of its Jobs changing phase (a finished Job frees a Forbid slot, moves history and
 *   lastSuccessfulTime).
 * Its passes start once the Job informer has listed: a pass reads its CronJob's Jobs from there.
 */
export function setupCronController(mgr: Manager): void {
  const { jobs, cronJobs } = mgr.informers;
  const queue = new WorkQueue();

  // CronJob key -> names of its Jobs, from the Job informer (the store has no label index).
  const jobsByCron = new Map<string, Set<string>>();
  const cronKeyOf = (j: { metadata: { namespace?: string | undefined; labels?: Record<string, string> | undefined } }) => {
    const cj = j.metadata.labels?.[CRONJOB_LABEL];
    return cj ? nsKey(j.metadata.namespace, cj) : undefined;
  };
  jobs.addHandlers({
    onAdd: (j) => {
      const key = cronKeyOf(j);
      if (!key) return;
      let set = jobsByCron.get(key);
      if (!set) jobsByCron.set(key, (set = new Set()));
      set.add(j.metadata.name);
    },
    onUpdate: (old, j) => {
      const key = cronKeyOf(j);
      if (key && old.status?.phase !== j.status?.phase) queue.add(key);
    },
    onDelete: (j) => {
      const key = cronKeyOf(j);
      if (!key) return;
      jobsByCron.get(key)?.delete(j.metadata.name);
      if (jobsByCron.get(key)?.size === 0) jobsByCron.delete(key);
    },
  });

  const fireQueue = new FireQueue({ onFire: (key) => queue.add(key) });
  mgr.signal.addEventListener('abort', () => fireQueue.stop(), { once: true });
  const enqueueCron = (c: Named) => queue.add(nsKey(c.metadata.namespace, c.metadata.name));
  cronJobs.addHandlers({ onAdd: enqueueCron, onUpdate: (_o, c) => enqueueCron(c), onDelete: enqueueCron });

  const controller = new CronController({
    store: mgr.store,
    events: mgr.events,
    logger: mgr.logger.child({ controller: 'cron' }),
    fireQueue,
    jobsOf: (ns, cj) => [...(jobsByCron.get(nsKey(ns, cj)) ?? [])],
  });
  mgr.runQueue('cron', queue, (key) => controller.reconcile(key), 2, { startAfter: jobs.synced });
}
