// The simplest safe rollout of a changed template: surge one new instance, wait until it is
// ready, then remove one stale instance, and repeat. It never drops below `replicas` live
// instances on purpose. A later issue replaces this with configurable rollouts.
import type { Instance } from '../core/index.js';
import { isReady } from './instance-phase.js';
import { scaleDownOrder } from './scale-down-order.js';

export interface RolloutStep {
  /** New instances to create from the current template (0 or 1). */
  create: number;
  remove: Instance[];
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
    if (removable <= 0) return { create: 0, remove: [] };
    const order = [...scaleDownOrder(stale), ...scaleDownOrder(fresh)];
    return { create: 0, remove: order.slice(0, removable) };
  }
  return surgeInFlight ? { create: 0, remove: [] } : { create: 1, remove: [] };
}
