// The rollout record in Service.status.rollout, as a pure function of the previous record and
// what the controller counted this pass. A rollout starts when the current version changes; it
// is Complete once every replica runs the new version and is available; Paused and CanaryPaused
// hold it; no progress (no new instance became available) within progressDeadlineSeconds makes
// it Failed. Complete and RolledBack stay for their version (scaling is not a rollout).
// What a failed rollout returns to is decided when it starts, from what was serving then
// (rollbackTarget, below), so a version whose own record had not reached Complete yet is not lost.
import type { RolloutStatus } from '../../core/index.js';

export interface RolloutFacts {
  version: number;
  /** The cause of the current version when this pass made it (a new rollout starts). */
  createdCause?: string | undefined;
  /** Live instances of older versions. */
  outdated: number;
  /** Live instances of the current version (evicted ones included). */
  updated: number;
  updatedAvailable: number;
  replicas: number;
  paused: boolean;
  canary: number | undefined;
  progressDeadlineMs: number;
  /** Why new instances are not available, for the Failed message. */
  blocked?: string | undefined;
  /** Available instances of every version (what serves now), for the Failed message. */
  available: number;
  /** When the version changes: ready, not stopping instances of the previous record's version. */
  previousReady: number;
  /** spec.update.autoRollback (default true). */
  autoRollback: boolean;
}

export interface RolloutTransition {
  rollout: RolloutStatus;
  /** This pass moved the rollout to Failed. */
  failedNow: boolean;
  /** This pass started a rollout of a new version. */
  started: boolean;
  /** When the deadline falls, for a timed requeue (ms), if it can. */
  deadlineAt?: number | undefined;
}

/**
 * What a rollout that starts now from `prev` (the record of the version current until now) returns
 * to if it fails. Only what has been seen serving counts, never how far prev's record had got:
 * 1. prev completed (Complete; RolledBack is a return to a version that had) -> prev;
 * 2. all `replicas` of prev's instances are ready (passing their health checks): prev is serving
 *    in full and only minReadySeconds or the status write lagged -> prev;
 * 3. else prev's own target, the version prev was rolling from (still serving the rest);
 * 4. else, when prev had none (the first version), prev if any of its instances is ready: the only
 *    version that has ever served;
 * 5. else none: a failure has nothing to go back to and says so.
 */
export function rollbackTarget(prev: RolloutStatus | undefined, previousReady: number, replicas: number): number | undefined {
  if (!prev) return undefined;
  if (prev.phase === 'Complete' || prev.phase === 'RolledBack') return prev.version;
  if (previousReady >= Math.max(1, replicas)) return prev.version;
  if (prev.fromVersion !== undefined) return prev.fromVersion;
  return previousReady > 0 ? prev.version : undefined;
}

/** "no earlier version completed; staying on v2 with 2 of 3 available", or undefined when it rolls back. */
export function stayingMessage(rollout: RolloutStatus, f: Pick<RolloutFacts, 'autoRollback' | 'available' | 'replicas'>): string | undefined {
  if (f.autoRollback && rollout.fromVersion !== undefined) return undefined;
  const why = f.autoRollback ? 'no earlier version completed' : 'autoRollback is off';
  return `${why}; staying on v${rollout.version} with ${f.available} of ${f.replicas} available`;
}

const STAYING = /staying on v\d+ with \d+ of \d+ available$/;

export function isRollbackCause(cause: string | undefined): boolean {
  return cause?.startsWith('rolled back to') === true;
}

export function nextRollout(prev: RolloutStatus | undefined, f: RolloutFacts, nowMs: number): RolloutTransition {
  const now = new Date(nowMs).toISOString();
  const summary = `${f.updatedAvailable} of ${f.replicas} new instances available, ${f.outdated} old left`;
  if (!prev || prev.version !== f.version) {
    const fromVersion = rollbackTarget(prev, f.previousReady, f.replicas);
    const rollback = isRollbackCause(f.createdCause);
    const rollout: RolloutStatus = {
      phase: rollback ? 'RolledBack' : f.paused ? 'Paused' : 'Progressing',
      version: f.version,
      ...(fromVersion !== undefined ? { fromVersion } : {}),
      startedAt: now,
      progressAt: now,
      availableUpdated: f.updatedAvailable,
      message: rollback ? (f.createdCause ?? '') : `rolling out v${f.version}: ${summary}`,
    };
    return { rollout, failedNow: false, started: true, deadlineAt: rollout.phase === 'Progressing' ? nowMs + f.progressDeadlineMs : undefined };
  }
  const progressed = f.updatedAvailable > (prev.availableUpdated ?? 0);
  const base: RolloutStatus = { ...prev, availableUpdated: f.updatedAvailable, ...(progressed ? { progressAt: now } : {}) };
  const complete = f.outdated === 0 && f.updatedAvailable >= f.replicas;
  const done = `v${f.version} rolled out: ${f.replicas} of ${f.replicas} instances up to date and available`;
  // A scale after completion changes the counts, not the phase: the message follows them.
  if (prev.phase === 'Complete') return { rollout: { ...base, message: complete ? done : `v${f.version} rolled out; scaling: ${f.updatedAvailable} of ${f.replicas} instances available` }, failedNow: false, started: false };
  if (prev.phase === 'RolledBack') return { rollout: base, failedNow: false, started: false };
  if (complete) return { rollout: { ...base, phase: 'Complete', message: done }, failedNow: false, started: false };
  // A failed rollout stays Failed until a new instance turns available: then it goes on.
  if (prev.phase === 'Failed' && !progressed) {
    // The count in "staying on v2 with N of M available" follows what serves now.
    const staying = stayingMessage(prev, f);
    const message = staying && prev.message && STAYING.test(prev.message) ? prev.message.replace(STAYING, staying.slice(staying.indexOf('staying'))) : prev.message;
    return { rollout: { ...base, ...(message !== undefined ? { message } : {}) }, failedNow: false, started: false };
  }
  if (f.paused) return { rollout: { ...base, phase: 'Paused', message: `rollout of v${f.version} paused: ${summary}` }, failedNow: false, started: false };
  const canary = f.canary !== undefined && f.canary > 0 ? Math.min(f.canary, f.replicas) : 0;
  if (canary > 0 && !prev.promoted && f.outdated > 0 && f.updatedAvailable >= canary) {
    return {
      rollout: { ...base, phase: 'CanaryPaused', message: `canary of v${f.version}: ${f.updatedAvailable} new instance${f.updatedAvailable === 1 ? '' : 's'} available; waiting for promote` },
      failedNow: false,
      started: false,
    };
  }
  // Back from a pause (or a failure): the deadline counts from now.
  const resumed = prev.phase === 'Paused' || prev.phase === 'CanaryPaused' || prev.phase === 'Failed';
  const progressAt = resumed ? now : (base.progressAt ?? now);
  const deadlineAt = Date.parse(progressAt) + f.progressDeadlineMs;
  if (nowMs >= deadlineAt) {
    const seconds = Math.round(f.progressDeadlineMs / 1000);
    const why = f.blocked ? `: ${f.blocked}` : '';
    const staying = stayingMessage(prev, f);
    return {
      rollout: { ...base, phase: 'Failed', message: `v${f.version} made no progress within ${seconds}s (ProgressDeadlineExceeded)${why}${staying ? `; ${staying}` : ''}` },
      failedNow: true,
      started: false,
    };
  }
  return { rollout: { ...base, progressAt, phase: 'Progressing', message: `rolling out v${f.version}: ${summary}` }, failedNow: false, started: false, deadlineAt };
}
