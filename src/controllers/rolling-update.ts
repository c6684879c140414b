// The simplest safe rollout of a changed template: surge one new instance, wait until it is
// ready, then remove one stale instance, and repeat. It never drops below `replicas` live
// instances on purpose, with one exception: when the surge instance cannot be placed at all
// (typically a fixed hostPort held by the stale instances on every node, or a full cluster),
// waiting would deadlock, so one stale instance goes first to make room (maxUnavailable = 1).
// A later issue replaces this with configurable rollouts.
import type { Instance } from '../core/index.js';
import { isReady, isUnboundPending } from './instance-phase.js';
import { scaleDownOrder } from './scale-down-order.js';

export interface RolloutStep {
  /** New instances to create from the current template (0 or 1). */
  create: number;
  remove: Instance[];
  /** Why this step departs from surge-first, for the Progressing condition. */
  note?: string;
}

/**
 * One step for `live` instances (none finished) when some carry a stale template hash and there
 * are at least `replicas` of them.
 */
export function rollingStep(live: readonly Instance[], replicas: number, templateHash: string): RolloutStep {
  const fresh = live.filter((i) => i.spec.templateHash === templateHash);
  const stale = live.filter((i) => i.spec.templateHash !== templateHash);
  if (stale.length === 0) return { create: 0, remove: [] };
  const surgeInFlight = fresh.some((i) => !isReady(i));
  const excess = live.length - replicas;
  if (excess > 0) {
    // A fresh instance still starting is the surge: keep room for it, retire the rest.
    const removable = excess - (surgeInFlight ? 1 : 0);
    if (removable > 0) {
      const order = [...scaleDownOrder(stale), ...scaleDownOrder(fresh)];
      return { create: 0, remove: order.slice(0, removable) };
    }
  }
  if (!surgeInFlight) return { create: 1, remove: [] };
  return makeRoomForStuckSurge(live, fresh, stale, replicas);
}

/**
 * The surge waits for a node (Unschedulable): remove one stale instance first, as long as that
 * leaves at least replicas - 1 ready (removing a stale instance that is not ready costs nothing).
 */
function makeRoomForStuckSurge(live: readonly Instance[], fresh: readonly Instance[], stale: readonly Instance[], replicas: number): RolloutStep {
  const stuck = fresh.find((i) => isUnboundPending(i) && i.status?.reason === 'Unschedulable');
  const victim = scaleDownOrder(stale)[0];
  if (!stuck || !victim) return { create: 0, remove: [] };
  const ready = live.filter(isReady).length;
  if (isReady(victim) && ready < replicas) return { create: 0, remove: [] };
  const why = stuck.status?.message ?? 'no node fits';
  return {
    create: 0,
    remove: [victim],
    note: `new instance ${stuck.metadata.name} cannot be placed (${why}): removing old instance ${victim.metadata.name} first (maxUnavailable 1)`,
  };
}
