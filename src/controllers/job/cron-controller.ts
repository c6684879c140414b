// The cron controller: key `namespace/name` of a CronJob. Each pass re-reads the CronJob, works out
// which scheduled times have come since the last one it recorded, and fires at most ONE: the
// latest, if it is within startingDeadlineSeconds (older ones are counted as missed). Firing is one
// store txn: the CronJob's status.lastScheduleTime (CAS on its revision) together with the Job
// `<cronjob>-<unix seconds>`. So a scheduled time is recorded exactly when its Job exists: a server
// restart (or a second pass) neither repeats it (the time is recorded; and the name would be a 409)
// nor loses it (nothing recorded, so the next pass still finds it due).
//
// The next fire time of every CronJob sits in a FireQueue (one timer for the earliest), which adds
// the key to the work queue when it comes; watch events only add keys too. Nothing acts on a payload.
import type { Logger } from 'pino';
import {
  CRONJOB_LABEL,
  canonicalJson,
  isAppError,
  parseSchedule,
  namespaceOf,
  type CronJob,
  type CronJobStatus,
  type CronSchedule,
  type Job,
} from '../../core/index.js';
import type { Store, TxnOp } from '../../store/store.js';
import { jobFor, SCHEDULED_TIME_ANNOTATION } from '../../runtime/cron-job-runs.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { count } from '../shared/event-text.js';
import type { FireQueue } from './fire-queue.js';
import { isJobFinishedPhase, STOP_ANNOTATION } from './job-plan.js';
import type { HandlerResult } from '../../runtime/work-queue.js';
import { splitKey } from '../shared/queue-keys.js';

export { CRONJOB_LABEL, SCHEDULED_TIME_ANNOTATION };

export interface CronControllerOptions {
  store: Store;
  logger: Logger;
  fireQueue: FireQueue;
  /** The Jobs of a CronJob (names), as the Job informer last saw them. */
  jobsOf: (namespace: string, cronJob: string) => readonly string[];
  events: EventRecorder;
  now?: () => number;
}

const isFinishedJob = (j: Job) => isJobFinishedPhase(j.status?.phase);

export class CronController {
  private readonly now: () => number;
  private readonly events: EventRecorder;
  /** Parsed schedules by CronJob uid + spec, so a pass does not re-parse an unchanged one. */
  private readonly schedules = new Map<string, { fingerprint: string; schedule: CronSchedule }>();

  constructor(private readonly opts: CronControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events;
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const { store, fireQueue } = this.opts;
    const { namespace, name } = splitKey(key);
    const cj = await store.get('CronJob', namespace, name);
    if (!cj) {
      fireQueue.remove(key);
      this.schedules.delete(key);
      return this.deleteJobsOf(namespace, name);
    }
    const nowMs = this.now();
    const schedule = this.scheduleOf(key, cj);
    const jobs = await this.jobs(cj);
    const active = jobs.filter((j) => !isFinishedJob(j));
    const status = cj.status ?? { active: [], missed: 0, conditions: [] };

    // Which scheduled times have come since the last one recorded (run or counted as missed)?
    const lastMs = Math.max(Date.parse(status.lastScheduleTime ?? cj.metadata.createdAt), Date.parse(status.lastMissedTime ?? '') || 0);
    let due = cj.spec.suspend ? { count: 0, latest: undefined as Date | undefined, capped: false } : schedule.due(new Date(lastMs), new Date(nowMs));
    // With a starting deadline, every time still within it runs, oldest first (a control plane
    // that was down or failing over catches up, docs/jobs.md); older ones count as missed. The
    // status write of each run brings us back for the next.
    const deadlineMs = (cj.spec.startingDeadlineSeconds ?? 0) * 1000;
    if (due.latest && due.count > 1 && cj.spec.startingDeadlineSeconds !== undefined) {
      const earliest = schedule.next(new Date(Math.max(lastMs, nowMs - deadlineMs - 1)));
      if (earliest && earliest.getTime() <= nowMs) {
        const older = schedule.due(new Date(lastMs), new Date(earliest.getTime() - 1));
        due = { count: older.count + 1, latest: earliest, capped: older.capped };
      }
    }
    const next = schedule.next(new Date(Math.max(nowMs, due.latest?.getTime() ?? 0)));

    if (due.latest) {
      const fired = await this.fire(cj, due, active, nowMs, next);
      if (fired === 'conflict') return { requeueAfterMs: 20 };
      if (next && !cj.spec.suspend) fireQueue.schedule(key, next.getTime());
      return; // the status write made an event that brings us back for the rest (history, active)
    }

    await this.cleanUpHistory(cj, jobs);
    const lastSuccessful = jobs
      .filter((j) => j.status?.phase === 'Succeeded')
      .map((j) => j.status?.completionTime ?? '')
      .reduce((a, b) => (b > a ? b : a), status.lastSuccessfulTime ?? '');
    const nextStatus: CronJobStatus = {
      ...status,
      active: active.map((j) => j.metadata.name).sort(),
      ...(lastSuccessful ? { lastSuccessfulTime: lastSuccessful } : {}),
      ...(next && !cj.spec.suspend ? { nextScheduleTime: next.toISOString() } : { nextScheduleTime: undefined }),
    };
    if (nextStatus.nextScheduleTime === undefined) delete nextStatus.nextScheduleTime;
    if (canonicalJson(nextStatus) !== canonicalJson(cj.status ?? null)) {
      try {
        await store.update<CronJob>({ ...cj, status: nextStatus });
      } catch (e) {
        if (isAppError(e, 'CONFLICT')) return { requeueAfterMs: 0 };
        if (!isAppError(e, 'NOT_FOUND')) throw e;
      }
    }
    if (next && !cj.spec.suspend) fireQueue.schedule(key, next.getTime());
    else fireQueue.remove(key);
    return;
  }

  /**
   * Fires the latest due time (or counts it as missed) in one txn with the status write. Returns
   * 'conflict' when the CronJob or a Job changed meanwhile (the caller re-reads and retries).
   */
  private async fire(
    cj: CronJob,
    due: { count: number; latest: Date | undefined; capped: boolean },
    active: readonly Job[],
    nowMs: number,
    next: Date | undefined,
  ): Promise<'fired' | 'missed' | 'conflict'> {
    const latest = due.latest as Date;
    const { store, logger } = this.opts;
    const status = cj.status ?? { active: [], missed: 0, conditions: [] };
    const involved = { kind: 'CronJob', namespace: cj.metadata.namespace, name: cj.metadata.name };
    const nowDate = new Date(nowMs);
    const lateMs = nowMs - latest.getTime();
    const deadline = cj.spec.startingDeadlineSeconds;
    const older = due.count - 1;
    const countText = `${due.capped ? 'more than ' : ''}${due.count - 1}`;
    const base: CronJobStatus = { ...status, ...(next ? { nextScheduleTime: next.toISOString() } : {}) };

    const missAll = async (why: string): Promise<'missed' | 'conflict'> => {
      const s: CronJobStatus = { ...base, missed: status.missed + due.count, lastMissedTime: latest.toISOString() };
      if (!(await this.writeStatus(cj, s))) return 'conflict';
      await this.events.record(involved, 'Warning', 'MissedSchedule', `missed ${count(due.count, 'run')} (${why}); latest at ${latest.toISOString()}`, 'cron-controller', nowDate);
      return 'missed';
    };

    if (deadline !== undefined && lateMs > deadline * 1000) return missAll(`past startingDeadlineSeconds ${deadline}`);
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) return missAll(`Forbid: ${active.map((j) => j.metadata.name).join(', ')} still running`);

    const job = jobFor(cj, latest);
    const jobName = job.metadata.name;
    if (await store.get('Job', cj.metadata.namespace, jobName)) {
      // Already made (a manual object of that name, or a status write lost after its txn): record only.
      return (await this.writeStatus(cj, { ...base, lastScheduleTime: latest.toISOString() })) ? 'fired' : 'conflict';
    }
    const ops: TxnOp[] = [];
    if (policy === 'Replace') {
      for (const old of active) {
        if (old.metadata.annotations?.[STOP_ANNOTATION]) continue;
        ops.push({ op: 'update', object: { ...old, metadata: { ...old.metadata, annotations: { ...old.metadata.annotations, [STOP_ANNOTATION]: `replaced by ${jobName}` } } } });
      }
    }
    const nextStatus: CronJobStatus = {
      ...base,
      lastScheduleTime: latest.toISOString(),
      active: [...new Set([...active.map((j) => j.metadata.name), jobName])].sort(),
      ...(older > 0 ? { missed: status.missed + older } : {}),
    };
    ops.push({ op: 'update', object: { ...cj, status: nextStatus } }, { op: 'create', object: job });
    try {
      await store.txn(ops);
    } catch (e) {
      if (isAppError(e, 'CONFLICT') || isAppError(e, 'NOT_FOUND')) return 'conflict';
      throw e;
    }
    logger.info({ namespace: cj.metadata.namespace, name: cj.metadata.name, job: jobName, scheduledTime: latest.toISOString(), lateMs, missed: older }, 'cron job fired');
    const late = lateMs >= 1000 ? `, ${Math.round(lateMs / 1000)}s late` : '';
    await this.events.record(involved, 'Normal', 'Scheduled', `scheduled run at ${latest.toISOString()}: created job ${jobName}${late}`, 'cron-controller', nowDate);
    if (older > 0) {
      const why = deadline !== undefined ? `past startingDeadlineSeconds ${deadline}` : 'only the latest missed time runs';
      await this.events.record(involved, 'Warning', 'MissedSchedule', `missed ${countText} run${older === 1 && !due.capped ? '' : 's'} (${why})`, 'cron-controller', nowDate);
    }
    if (policy === 'Replace' && ops.length > 2) {
      await this.events.record(involved, 'Normal', 'Replacing', `stopping ${active.map((j) => j.metadata.name).join(', ')} for ${jobName} (Replace)`, 'cron-controller', nowDate);
    }
    return 'fired';
  }

  private async writeStatus(cj: CronJob, status: CronJobStatus): Promise<boolean> {
    try {
      await this.opts.store.update<CronJob>({ ...cj, status });
      return true;
    } catch (e) {
      if (isAppError(e, 'CONFLICT') || isAppError(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  /** This CronJob's Jobs as stored now: the informer's names, each re-read (cache may lag). */
  private async jobs(cj: CronJob): Promise<Job[]> {
    const ns = namespaceOf(cj);
    const names = new Set([...this.opts.jobsOf(ns, cj.metadata.name), ...(cj.status?.active ?? [])]);
    const out: Job[] = [];
    for (const n of names) {
      const j = await this.opts.store.get('Job', ns, n);
      if (j && j.metadata.labels?.[CRONJOB_LABEL] === cj.metadata.name) out.push(j);
    }
    return out;
  }

  /** Keeps the newest successfulJobsHistoryLimit succeeded and failedJobsHistoryLimit failed Jobs. */
  private async cleanUpHistory(cj: CronJob, jobs: readonly Job[]): Promise<void> {
    const byAge = (a: Job, b: Job) => scheduledOf(b).localeCompare(scheduledOf(a));
    const succeeded = jobs.filter((j) => j.status?.phase === 'Succeeded').sort(byAge);
    const failed = jobs.filter((j) => j.status?.phase === 'Failed').sort(byAge);
    const extra = [...succeeded.slice(cj.spec.successfulJobsHistoryLimit ?? 3), ...failed.slice(cj.spec.failedJobsHistoryLimit ?? 1)];
    if (extra.length === 0) return;
    try {
      await this.opts.store.txn(extra.map((j) => ({ op: 'delete', kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, revision: j.metadata.revision })));
    } catch (e) {
      if (!isAppError(e, 'CONFLICT') && !isAppError(e, 'NOT_FOUND')) throw e;
    }
  }

  private async deleteJobsOf(namespace: string, name: string): Promise<HandlerResult> {
    const names = this.opts.jobsOf(namespace, name);
    for (const n of names) {
      try {
        await this.opts.store.delete('Job', namespace, n);
      } catch (e) {
        if (!isAppError(e, 'NOT_FOUND')) throw e;
      }
    }
    if (names.length > 0) this.opts.logger.info({ namespace, name, deleted: names.length }, 'cron job gone; deleted its jobs');
    return;
  }

  private scheduleOf(key: string, cj: CronJob): CronSchedule {
    const fingerprint = `${cj.metadata.uid}|${cj.spec.schedule}|${cj.spec.timeZone ?? ''}`;
    const cached = this.schedules.get(key);
    if (cached?.fingerprint === fingerprint) return cached.schedule;
    const schedule = parseSchedule(cj.spec.schedule, { timeZone: cj.spec.timeZone, anchor: new Date(cj.metadata.createdAt) });
    this.schedules.set(key, { fingerprint, schedule });
    return schedule;
  }
}

function scheduledOf(j: Job): string {
  return j.metadata.annotations?.[SCHEDULED_TIME_ANNOTATION] ?? j.metadata.createdAt;
}
