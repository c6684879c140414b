// The job controller: key `namespace/name` of a Job. Re-reads the Job and its run instances (the
// `spec.service` index, ownerKind Job), asks job-plan.ts for the next step, and takes it in one
// store txn together with the status write (CAS on the Job), so two passes never both start run
// N: the loser's txn fails as a whole and it re-reads. Run instances have deterministic names
// (`<job>-<run>`), a second guard against a run starting twice.
import type { Logger } from 'pino';
import {
  API_VERSION,
  canonicalJson,
  CRONJOB_LABEL,
  WARM_GROUP_LABEL,
  isAppError,
  stableHash,
  podFieldsOf,
  sumResources,
  namespaceOf,
  type Instance,
  type Job,
} from '../../core/index.js';
import type { NewObject, Store, TxnOp } from '../../store/store.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { listSome } from '../shared/event-text.js';
import { JOB_LABEL, planJob, RUN_ANNOTATION, runInstanceName, type JobPlan } from './job-plan.js';

export { runInstanceName };
import type { HandlerResult } from '../../runtime/work-queue.js';
import { splitKey } from '../shared/queue-keys.js';

/** How a run is stopped (activeDeadlineSeconds, Replace, a finished job): no drain, 10 s grace. */
const JOB_TERMINATION = { drainDelaySeconds: 0, gracePeriodSeconds: 10, stopSignal: 'SIGTERM' };
const MAX_OPS_PER_TXN = 1000;

export interface JobControllerOptions {
  store: Store;
  logger: Logger;
  events: EventRecorder;
  now?: () => number;
}

export class JobController {
  private readonly now: () => number;
  private readonly events: EventRecorder;

  constructor(private readonly opts: JobControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events;
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const { store, logger } = this.opts;
    const { namespace, name } = splitKey(key);
    const job = await store.get('Job', namespace, name);
    const instances = await jobInstances(store, namespace, name);
    if (!job) {
      if (instances.length === 0) return;
      const batch = instances.slice(0, MAX_OPS_PER_TXN);
      await store.txn(batch.map((i) => ({ op: 'delete', kind: 'Instance', namespace, name: i.metadata.name })));
      logger.info({ namespace, name, deleted: batch.length }, 'job gone; deleted its run instances');
      return batch.length < instances.length ? { requeueAfterMs: 0 } : undefined;
    }

    const nowMs = this.now();
    const plan = planJob(job, instances, nowMs);
    if (plan.deleteJob) {
      try {
        await store.delete('Job', namespace, name, { revision: job.metadata.revision });
      } catch (e) {
        if (isAppError(e, 'CONFLICT')) return { requeueAfterMs: 0 };
        if (!isAppError(e, 'NOT_FOUND')) throw e;
      }
      logger.info({ namespace, name }, 'job deleted after ttlSecondsAfterFinished');
      return { requeueAfterMs: 0 }; // the next pass removes its instances
    }

    const ops: TxnOp[] = [];
    const now = new Date(nowMs).toISOString();
    for (const run of plan.start.slice(0, MAX_OPS_PER_TXN)) ops.push({ op: 'create', object: runInstance(job, run) });
    for (const { instance, reason } of plan.stop) ops.push({ op: 'update', object: { ...instance, spec: { ...instance.spec, stop: { at: now, reason } } } });
    for (const i of plan.remove) ops.push({ op: 'delete', kind: 'Instance', namespace, name: i.metadata.name, revision: i.metadata.revision });
    const statusChanged = canonicalJson(job.status ?? null) !== canonicalJson(plan.status);
    if (statusChanged) ops.push({ op: 'update', object: { ...job, status: plan.status } });
    if (ops.length === 0) return requeue(plan);
    try {
      await store.txn(ops);
    } catch (e) {
      // The Job or a run changed meanwhile (its event requeues us), or a run already exists.
      if (isAppError(e, 'CONFLICT') || isAppError(e, 'NOT_FOUND')) return { requeueAfterMs: 50 };
      throw e;
    }
    if (plan.start.length > 0 || plan.stop.length > 0 || plan.remove.length > 0) {
      logger.info({ namespace, name, revision: job.metadata.revision, started: plan.start, stopped: plan.stop.length, removed: plan.remove.length, phase: plan.status.phase }, 'job reconciled runs');
    }
    await this.record(job, plan);
    return requeue(plan);
  }

  private async record(job: Job, plan: JobPlan): Promise<void> {
    const involved = { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name };
    const rec = (reason: string, message: string, warning = false) =>
      this.events.record(involved, warning ? 'Warning' : 'Normal', reason, message, 'job-controller', new Date(this.now()));
    if (plan.start.length > 0) {
      const names = plan.start.map((n) => `${n} (${runInstanceName(job.metadata.name, n)})`);
      await rec('Started', `started run${plan.start.length > 1 ? 's' : ''} ${listSome(names)}`);
    }
    for (const [reason, message, warning] of plan.events) await rec(reason, message, warning);
    if (plan.stop.length > 0) await rec('Stopping', `stopping ${listSome(plan.stop.map((s) => s.instance.metadata.name))}: ${plan.stop[0]?.reason ?? ''}`);
  }
}

function requeue(plan: JobPlan): HandlerResult {
  return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
}

/** A Job's run instances: the spec.service index, then only those a Job owns. */
export async function jobInstances(store: Store, namespace: string, job: string): Promise<Instance[]> {
  const { items } = await store.list('Instance', { namespace, field: { path: 'spec.service', value: job } });
  return items.filter((i) => i.spec.ownerKind === 'Job');
}

function runInstance(job: Job, run: number): NewObject<Instance> {
  const spec = job.spec;
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: {
      name: runInstanceName(job.metadata.name, run),
      namespace: namespaceOf(job),
      labels: { [JOB_LABEL]: job.metadata.name, [WARM_GROUP_LABEL]: job.metadata.labels?.[CRONJOB_LABEL] ?? job.metadata.name },
      annotations: { [RUN_ANNOTATION]: String(run) },
    },
    spec: {
      service: job.metadata.name,
      ownerKind: 'Job',
      containers: spec.containers,
      restartPolicy: spec.restartPolicy ?? 'Never',
      ...(spec.placement ? { placement: spec.placement } : {}),
      ...(spec.initContainers ? { initContainers: spec.initContainers } : {}),
      ...(spec.configFiles ? { configFiles: spec.configFiles } : {}),
      runIn: spec.runIn ?? 'fresh',
      ...(spec.warm ? { warm: spec.warm } : {}),
      resources: sumResources(spec.containers),
      templateHash: stableHash({ containers: spec.containers, initContainers: spec.initContainers, configFiles: spec.configFiles, restartPolicy: spec.restartPolicy, runIn: spec.runIn, ...podFieldsOf(spec) }),
      termination: JOB_TERMINATION,
      ...podFieldsOf(spec),
    },
    status: { phase: 'Pending', ready: false, containers: [] },
  };
}
