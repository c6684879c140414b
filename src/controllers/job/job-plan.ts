// The pure decision of the job controller: given a Job, its run instances and the time, what is
// its status and which step comes next (start runs, stop runs, drop instances, delete the Job).
// Counting is from run records, not only from instances: a run's instance may be gone (stopped and
// removed) while its record, exit code and duration stay in status.runs until the Job's TTL.
import { isFinished, isFinishedPhase, setCondition, stableHash, type Instance, type Job, type JobRun, type JobStatus } from '../../core/index.js';

export const JOB_LABEL = 'gantry.io/job';
export const RUN_ANNOTATION = 'gantry.io/run';
/** Set on a Job (value: why) to end it: no new runs, running ones stopped, phase Failed (reason Stopped). */
export const STOP_ANNOTATION = 'gantry.io/stop';
/** Stopped runs whose agent has not finished them this long after drain + grace are removed. */
const STOP_SLACK_MS = 10_000;
/** Run records kept in status (finished ones beyond this are dropped, oldest first; counts stay). */
const MAX_RUN_RECORDS = 200;
/** Delay before the next run after a failure: doubles per failure, capped. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

export interface JobPlan {
  status: JobStatus;
  /** Run numbers to start now. */
  start: number[];
  /** Live run instances to stop (spec.stop) with this reason. */
  stop: { instance: Instance; reason: string }[];
  /** Instances to delete: stopped long ago without an answer from their agent. */
  remove: Instance[];
  /** Delete the Job itself (its TTL after finishing has passed). */
  deleteJob: boolean;
  /** Reconcile again after this long (a retry backoff, deadline or TTL ends then). */
  requeueAfterMs?: number;
  /** What changed, for events: [reason, message, warning?]. */
  events: [string, string, boolean?][];
}

/** `<job>-<run>`; a long job name is cut and given a hash so two jobs never share run names. */
export function runInstanceName(job: string, run: number): string {
  const suffix = `-${run}`;
  if (job.length + suffix.length <= 63) return `${job}${suffix}`;
  const hash = stableHash(job).slice(0, 6);
  return `${job.slice(0, 63 - suffix.length - hash.length - 1).replace(/-+$/, '')}-${hash}${suffix}`;
}

/** A Job is finished once Succeeded or Failed (a Job has no Lost phase: a lost run counts as a failed one). */
export function isJobFinishedPhase(phase: JobStatus['phase'] | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function runOf(i: Instance): number {
  return Number(i.metadata.annotations?.[RUN_ANNOTATION] ?? 0);
}

function runRecord(i: Instance, prior: JobRun | undefined, now: string): JobRun {
  const st = i.status;
  const main = st?.containers.find((c) => c.exitCode !== undefined && c.exitCode !== 0) ?? st?.containers.find((c) => c.exitCode !== undefined);
  const phase = st?.phase ?? 'Pending';
  const startedAt = st?.startedAt ?? prior?.startedAt;
  const finishedAt = isFinishedPhase(phase) ? (prior?.finishedAt ?? st?.updatedAt ?? now) : undefined;
  const rec: JobRun = {
    run: runOf(i),
    instance: i.metadata.name,
    phase,
    ...(i.spec.node ? { node: i.spec.node } : {}),
    ...(main?.exitCode !== undefined ? { exitCode: main.exitCode } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    ...(startedAt && finishedAt ? { durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) } : {}),
    ...(st?.message ? { message: st.message } : i.spec.stop ? { message: `stopping: ${i.spec.stop.reason}` } : {}),
  };
  return rec;
}

function stopDeadlineMs(i: Instance): number {
  const t = i.spec.termination;
  const at = Date.parse(i.spec.stop?.at ?? '');
  return at + ((t?.drainDelaySeconds ?? 0) + (t?.gracePeriodSeconds ?? 10)) * 1000 + STOP_SLACK_MS;
}

export function planJob(job: Job, instances: readonly Instance[], nowMs: number): JobPlan {
  const now = new Date(nowMs).toISOString();
  const spec = job.spec;
  const prior = job.status;
  const completions = spec.completions ?? 1;
  const parallelism = spec.parallelism ?? 1;
  const backoffLimit = spec.backoffLimit ?? 6;
  const plan: JobPlan = { status: prior ?? emptyStatus(), start: [], stop: [], remove: [], deleteJob: false, events: [] };

  // Merge run records: the prior ones, updated from the instances that still exist.
  const records = new Map<number, JobRun>((prior?.runs ?? []).map((r) => [r.run, r]));
  let succeeded = prior?.succeeded ?? 0;
  let failed = prior?.failed ?? 0;
  const byRun = new Map<number, Instance>();
  for (const i of instances) byRun.set(runOf(i), i);
  const count = (before: JobRun | undefined, after: JobRun) => {
    if (before && isFinishedPhase(before.phase)) return;
    if (after.phase === 'Succeeded') succeeded++;
    else if (isFinishedPhase(after.phase)) failed++;
  };
  for (const [run, i] of byRun) {
    const before = records.get(run);
    const after = runRecord(i, before, now);
    // A finished record never goes back (an instance cannot run again).
    if (before && isFinishedPhase(before.phase)) continue;
    count(before, after);
    records.set(run, after);
  }
  // A record still live whose instance is gone (removed by us after a stop, or by a user): failed.
  for (const [run, rec] of records) {
    if (isFinishedPhase(rec.phase) || byRun.has(run)) continue;
    const after: JobRun = { ...rec, phase: 'Failed', finishedAt: now, message: rec.message ?? 'instance deleted before it finished' };
    count(rec, after);
    records.set(run, after);
  }

  const live = instances.filter((i) => !isFinished(i));
  const running = live.filter((i) => !i.spec.stop);
  let phase = prior?.phase ?? 'Pending';
  const finishedBefore = isJobFinishedPhase(phase);
  let conditions = prior?.conditions ?? [];
  const startTime = prior?.startTime ?? now;
  let completionTime = prior?.completionTime;

  const finish = (to: 'Succeeded' | 'Failed', reason: string, message: string, stopReason = reason) => {
    phase = to;
    completionTime = now;
    conditions = setCondition(conditions, { type: to === 'Succeeded' ? 'Complete' : 'Failed', status: 'True', reason, message }, now);
    plan.events.push([to === 'Succeeded' ? 'Completed' : reason, `job ${to === 'Succeeded' ? 'succeeded' : 'failed'}: ${message}`, to === 'Failed']);
    for (const i of running) plan.stop.push({ instance: i, reason: to === 'Succeeded' ? 'job succeeded' : stopReason });
  };

  if (!finishedBefore) {
    const deadlineMs = spec.activeDeadlineSeconds !== undefined ? Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 : undefined;
    if (succeeded >= completions) finish('Succeeded', 'Completed', `${succeeded}/${completions} runs succeeded`);
    else if (failed > backoffLimit) finish('Failed', 'BackoffLimitExceeded', `${failed} runs failed, more than backoffLimit ${backoffLimit}`);
    else if (job.metadata.annotations?.[STOP_ANNOTATION]) finish('Failed', 'Stopped', `stopped: ${job.metadata.annotations[STOP_ANNOTATION]}`, job.metadata.annotations[STOP_ANNOTATION]);
    else if (deadlineMs !== undefined && nowMs >= deadlineMs) {
      finish('Failed', 'DeadlineExceeded', `activeDeadlineSeconds ${spec.activeDeadlineSeconds} passed with ${succeeded}/${completions} succeeded${running.length > 0 ? `; stopping ${running.length} running` : ''}`);
    } else {
      // Never more than `parallelism` at once, stopping ones included (they still run).
      const want = Math.min(parallelism - live.length, completions - succeeded - live.length);
      const lastFailure = [...records.values()].filter((r) => r.phase !== 'Succeeded' && isFinishedPhase(r.phase)).map((r) => Date.parse(r.finishedAt ?? now)).reduce((a, b) => Math.max(a, b), 0);
      const retryAt = failed > 0 ? lastFailure + Math.min(RETRY_BASE_MS * 2 ** (failed - 1), RETRY_MAX_MS) : 0;
      if (want > 0 && nowMs < retryAt) plan.requeueAfterMs = retryAt - nowMs;
      else if (want > 0) {
        let next = Math.max(0, ...records.keys(), ...byRun.keys());
        for (let k = 0; k < want; k++) {
          plan.start.push(++next);
          records.set(next, { run: next, instance: runInstanceName(job.metadata.name, next), phase: 'Pending' });
        }
      }
      if (deadlineMs !== undefined) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(0, deadlineMs - nowMs));
      // Pending until a first run has got going; Running from then on until it finishes.
      const begun = succeeded + failed > 0 || instances.some((i) => i.status?.phase === 'Running' || isFinished(i));
      if (begun) phase = 'Running';
    }
  }

  // Stopped runs that their agent never finished: remove the instance (its record says so).
  for (const i of live) {
    if (i.spec.stop && nowMs >= stopDeadlineMs(i)) {
      plan.remove.push(i);
      const rec = records.get(runOf(i));
      if (rec && !isFinishedPhase(rec.phase)) {
        const after: JobRun = { ...rec, phase: 'Failed', finishedAt: now, message: `stopped (${i.spec.stop.reason}); removed after no answer from its node` };
        count(rec, after);
        records.set(runOf(i), after);
      }
    } else if (i.spec.stop) {
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, stopDeadlineMs(i) - nowMs);
    }
  }

  const runs = [...records.values()].sort((a, b) => a.run - b.run);
  const finishedRuns = runs.filter((r) => isFinishedPhase(r.phase));
  const drop = Math.max(0, runs.length - MAX_RUN_RECORDS);
  const dropped = new Set(finishedRuns.slice(0, drop).map((r) => r.run));
  const activeCount = live.length - plan.remove.length + plan.start.length;
  plan.status = {
    phase,
    active: Math.max(0, activeCount),
    succeeded,
    failed,
    startTime,
    ...(completionTime ? { completionTime } : {}),
    runs: runs.filter((r) => !dropped.has(r.run)),
    conditions,
  };

  // TTL after finishing: the Job goes, and with it its instances (logs included).
  const ttl = spec.ttlSecondsAfterFinished;
  if (isJobFinishedPhase(phase) && ttl !== undefined && completionTime) {
    const expiresAt = Date.parse(completionTime) + ttl * 1000;
    if (nowMs >= expiresAt) plan.deleteJob = true;
    else plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, expiresAt - nowMs);
  }
  if (plan.requeueAfterMs === Infinity) delete plan.requeueAfterMs;
  return plan;
}

function emptyStatus(): JobStatus {
  return { phase: 'Pending', active: 0, succeeded: 0, failed: 0, runs: [], conditions: [] };
}
