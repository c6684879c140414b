// The rollout record in Service.status.rollout, as a pure function of the previous record and
// what the controller counted this pass. A rollout starts when the current version changes; it
// is Complete once every replica runs the new version and is available; Paused and CanaryPaused
// hold it; no progress (no new instance became available) within progressDeadlineSeconds makes
// it Failed. Complete and RolledBack stay for their version (scaling is not a rollout).
import type { RolloutStatus } from '../core/index.js';

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

/** The most recent version that completed: what a rollback returns to. */
export function lastGood(prev: RolloutStatus | undefined): number | undefined {
  if (!prev) return undefined;
  return prev.phase === 'Complete' || prev.phase === 'RolledBack' ? prev.version : prev.fromVersion;
}

export function isRollbackCause(cause: string | undefined): boolean {
  return cause?.startsWith('rolled back to') === true;
}

export function nextRollout(prev: RolloutStatus | undefined, f: RolloutFacts, nowMs: number): RolloutTransition {
  const now = new Date(nowMs).toISOString();
  const summary = `${f.updatedAvailable} of ${f.replicas} new instances available, ${f.outdated} old left`;
  if (!prev || prev.version !== f.version) {
    const fromVersion = lastGood(prev);
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
  if (prev.phase === 'Complete' || prev.phase === 'RolledBack') return { rollout: base, failedNow: false, started: false };
  if (complete) return { rollout: { ...base, phase: 'Complete', message: `v${f.version} rolled out: ${f.replicas} of ${f.replicas} instances up to date and available` }, failedNow: false, started: false };
  if (prev.phase === 'Failed') return { rollout: base, failedNow: false, started: false };
  if (f.paused) return { rollout: { ...base, phase: 'Paused', message: `rollout of v${f.version} paused: ${summary}` }, failedNow: false, started: false };
  const canary = f.canary !== undefined && f.canary > 0 ? Math.min(f.canary, f.replicas) : 0;
  if (canary > 0 && !prev.promoted && f.outdated > 0 && f.updatedAvailable >= canary) {
    return {
      rollout: { ...base, phase: 'CanaryPaused', message: `canary of v${f.version}: ${f.updatedAvailable} new instance${f.updatedAvailable === 1 ? '' : 's'} available; waiting for promote` },
      failedNow: false,
      started: false,
    };
  }
  // Back from a pause: the deadline counts from now.
  const resumed = prev.phase === 'Paused' || prev.phase === 'CanaryPaused';
  const progressAt = resumed ? now : (base.progressAt ?? now);
  const deadlineAt = Date.parse(progressAt) + f.progressDeadlineMs;
  if (nowMs >= deadlineAt) {
    const seconds = Math.round(f.progressDeadlineMs / 1000);
    const why = f.blocked ? `: ${f.blocked}` : '';
    return {
      rollout: { ...base, phase: 'Failed', message: `v${f.version} made no progress within ${seconds}s (ProgressDeadlineExceeded)${why}` },
      failedNow: true,
      started: false,
    };
  }
  return { rollout: { ...base, progressAt, phase: 'Progressing', message: `rolling out v${f.version}: ${summary}` }, failedNow: false, started: false, deadlineAt };
}
