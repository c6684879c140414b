// The arithmetic of one rollout step, as counts (rollout-plan.ts picks the instances). Pure, so
// its bounds can be checked by property tests: a Rolling step never takes the live total above
// replicas + maxSurge, and never takes the available count below replicas - maxUnavailable (or
// below what it already was, when it starts lower). The shape follows Kubernetes' Deployment
// controller: scale the new version up within the surge, then scale the old down within what
// stays available, unhealthy old instances first.
import type { UpdateStrategy } from '../../core/index.js';

export interface RolloutBounds {
  /** Instances allowed above replicas. */
  surge: number;
  /** Instances allowed below replicas in the available count. */
  unavailable: number;
}

/** Whole numbers from int-or-percent: surge rounds up, unavailable down; both 0 would never move, so surge becomes 1. */
export function resolveBounds(replicas: number, update: UpdateStrategy | undefined): RolloutBounds {
  const surge = scaled(update?.maxSurge ?? 1, replicas, Math.ceil);
  const unavailable = Math.min(replicas, scaled(update?.maxUnavailable ?? 0, replicas, Math.floor));
  return surge === 0 && unavailable === 0 ? { surge: 1, unavailable: 0 } : { surge, unavailable };
}

function scaled(v: number | string, replicas: number, round: (n: number) => number): number {
  if (typeof v === 'number') return v;
  return round((replicas * Number(v.slice(0, -1))) / 100);
}

export interface PoolCount {
  /** Live instances (not finished, not being stopped). */
  total: number;
  /** Of those, ready for at least minReadySeconds. */
  available: number;
}

export interface RolloutInput {
  replicas: number;
  bounds: RolloutBounds;
  strategy: 'Rolling' | 'Recreate';
  /** Live instances of the current version that are not evicted. */
  current: PoolCount;
  /** Live instances of an older version, or evicted ones: all to be replaced. */
  old: PoolCount;
  /** Old instances being stopped right now (Recreate waits until they are gone). */
  oldStopping: number;
  /** Current-version instances wanted now: replicas, or the canary size until promoted. */
  newTarget: number;
  paused: boolean;
}

export interface RolloutCounts {
  create: number;
  /** Old instances to stop that are not available (cost nothing). */
  stopOldUnavailable: number;
  /** Old available instances to stop. */
  stopOldAvailable: number;
  /** Current instances beyond replicas (scale-down). */
  stopCurrent: number;
}

const NONE: RolloutCounts = { create: 0, stopOldUnavailable: 0, stopOldAvailable: 0, stopCurrent: 0 };

export function rolloutCounts(input: RolloutInput): RolloutCounts {
  const { replicas, current, old } = input;
  const pos = (n: number) => Math.max(0, n);
  if (input.paused) {
    // Hold the mix; only refill capacity that was lost (a crashed or lost instance).
    return { ...NONE, create: pos(replicas - current.total - old.total) };
  }
  if (old.total === 0) {
    // Recreate: the new version starts only once the old one is fully stopped.
    if (input.strategy === 'Recreate' && input.oldStopping > 0) return NONE;
    return { ...NONE, create: pos(replicas - current.total), stopCurrent: pos(current.total - replicas) };
  }
  if (input.strategy === 'Recreate') {
    return { ...NONE, stopOldUnavailable: old.total - old.available, stopOldAvailable: old.available };
  }
  const { surge, unavailable } = input.bounds;
  const newTarget = Math.min(input.newTarget, replicas);
  const create = pos(Math.min(newTarget - current.total, replicas + surge - current.total - old.total));
  const total = current.total + old.total + create;
  const minAvailable = pos(replicas - unavailable);
  const newUnavailable = current.total + create - current.available;
  let maxScaledDown = total - minAvailable - newUnavailable;
  // During a canary, the old version keeps the rest of the replicas.
  let room = pos(old.total - pos(replicas - newTarget));
  const stopOldUnavailable = Math.min(old.total - old.available, pos(maxScaledDown), room);
  maxScaledDown -= stopOldUnavailable;
  room -= stopOldUnavailable;
  const availableNow = current.available + old.available;
  const stopOldAvailable = Math.min(old.available, pos(availableNow - minAvailable), pos(maxScaledDown), room);
  // Surplus current instances (replicas lowered mid-rollout) go as plain scale-down.
  const stopCurrent = pos(current.total + create - replicas);
  return { create, stopOldUnavailable, stopOldAvailable, stopCurrent };
}
