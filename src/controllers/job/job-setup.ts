// Wiring of the job and cron controllers into the controller manager (index.ts): their informers,
// queues and the cron fire queue. Kept apart so index.ts only gains two lines.
import type { Logger } from 'pino';
import type { Instance } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { CRONJOB_LABEL, CronController } from './cron-controller.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { FireQueue } from './fire-queue.js';
import { Informer } from '../../runtime/informer.js';
import { JobController } from './job-controller.js';
import { WorkQueue } from '../../runtime/work-queue.js';
import { nsKey } from '../shared/queue-keys.js';

export interface JobControllersDeps {
  store: Store;
  events: EventRecorder;
  logger: Logger;
  signal: AbortSignal;
  /** The manager's Instance informer: run instances wake their Job. */
  instances: Informer<'Instance'>;
  resyncIntervalMs: number;
  now?: () => number;
}

/** How long a Job's reconcile waits for more changes of its runs (a burst of status reports). */
const RUN_BURST_MS = 100;

/** Starts the job and cron controllers; returns their loops (each ends when `signal` aborts). */
export function startJobControllers(deps: JobControllersDeps): Promise<void>[] {
  const { store, events, signal, resyncIntervalMs } = deps;
  const logger = deps.logger;
  const jobs = new Informer({ source: store, kind: 'Job', logger, resyncIntervalMs });
  const cronJobs = new Informer({ source: store, kind: 'CronJob', logger, resyncIntervalMs });
  const jobQueue = new WorkQueue();
  const cronQueue = new WorkQueue();

  // CronJob key -> names of its Jobs, from the Job informer (the store has no label index).
  const jobsByCron = new Map<string, Set<string>>();
  const cronKeyOf = (j: { metadata: { namespace?: string | undefined; labels?: Record<string, string> | undefined } }) => {
    const cj = j.metadata.labels?.[CRONJOB_LABEL];
    return cj ? nsKey(j.metadata.namespace, cj) : undefined;
  };
  const enqueueJob = (j: { metadata: { namespace?: string | undefined; name: string } }) => jobQueue.add(nsKey(j.metadata.namespace, j.metadata.name));
  jobs.addHandlers({
    onAdd: (j) => {
      enqueueJob(j);
      const key = cronKeyOf(j);
      if (!key) return;
      let set = jobsByCron.get(key);
      if (!set) jobsByCron.set(key, (set = new Set()));
      set.add(j.metadata.name);
    },
    onUpdate: (old, j) => {
      enqueueJob(j);
      const key = cronKeyOf(j);
      // A Job finishing frees a Forbid slot, moves history and lastSuccessfulTime.
      if (key && old.status?.phase !== j.status?.phase) cronQueue.add(key);
    },
    onDelete: (j) => {
      enqueueJob(j);
      const key = cronKeyOf(j);
      if (!key) return;
      jobsByCron.get(key)?.delete(j.metadata.name);
      if (jobsByCron.get(key)?.size === 0) jobsByCron.delete(key);
    },
  });
  const enqueueRunOwner = (i: Instance) => {
    if (i.spec.ownerKind === 'Job') jobQueue.addAfter(nsKey(i.metadata.namespace, i.spec.service), RUN_BURST_MS);
  };
  deps.instances.addHandlers({ onAdd: enqueueRunOwner, onUpdate: (_o, i) => enqueueRunOwner(i), onDelete: enqueueRunOwner });

  const fireQueue = new FireQueue({ onFire: (key) => cronQueue.add(key), ...(deps.now ? { now: deps.now } : {}) });
  signal.addEventListener('abort', () => fireQueue.stop(), { once: true });
  const enqueueCron = (c: { metadata: { namespace?: string | undefined; name: string } }) => cronQueue.add(nsKey(c.metadata.namespace, c.metadata.name));
  cronJobs.addHandlers({ onAdd: enqueueCron, onUpdate: (_o, c) => enqueueCron(c), onDelete: enqueueCron });

  const jobController = new JobController({ store, events, logger: logger.child({ controller: 'job' }), ...(deps.now ? { now: deps.now } : {}) });
  const cronController = new CronController({
    store,
    events,
    logger: logger.child({ controller: 'cron' }),
    fireQueue,
    jobsOf: (ns, cj) => [...(jobsByCron.get(nsKey(ns, cj)) ?? [])],
    ...(deps.now ? { now: deps.now } : {}),
  });
  const onError = (name: string) => (key: string, err: unknown) => logger.warn({ controller: name, key, err }, 'reconcile failed; retrying with backoff');
  return [
    jobs.run(signal),
    cronJobs.run(signal),
    jobQueue.run((key) => jobController.reconcile(key), signal, 2, onError('job')),
    // The Job informer must have listed before a CronJob's pass reads its Jobs (history, Forbid).
    afterSync(jobs.synced, signal, () => cronQueue.run((key) => cronController.reconcile(key), signal, 2, onError('cron'))),
  ];
}

/** Runs `loop` once `synced` resolves; resolves at once if `signal` aborts first. */
async function afterSync(synced: Promise<void>, signal: AbortSignal, loop: () => Promise<void>): Promise<void> {
  if (signal.aborted) return;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const first = await Promise.race([synced.then(() => 'synced' as const), aborted]);
  signal.removeEventListener('abort', onAbort);
  if (first === 'synced') await loop();
}
