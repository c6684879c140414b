// Eviction: the way the drain and crash-loop controllers ask an instance to move. They only set
// `spec.evict`; the owning service controller replaces evicted instances surge-first within the
// service's maxSurge/maxUnavailable (service-plan.ts), so a move never breaks availability more
// than a rolling update would. Job runs are never evicted: they run to completion.
import { isFinished, type Instance } from '../../core/index.js';
import { isStopping } from '../shared/instance-stop.js';

export type EvictReason = 'NodeDrain' | 'CrashLoop';

/** A bound, live service instance not yet evicted nor being stopped. */
export function canEvict(i: Instance): boolean {
  return i.spec.ownerKind !== 'Job' && i.spec.node !== undefined && !i.spec.evict && !isStopping(i) && !isFinished(i);
}

/** The instance with `spec.evict` set (a copy; CAS on the revision it was read at). */
export function withEvict(i: Instance, reason: EvictReason, message: string, nowMs: number): Instance {
  return { ...i, spec: { ...i.spec, evict: { at: new Date(nowMs).toISOString(), reason, message } } };
}

/**
 * Failures in a row of the instance's containers, summed: restarts after runs shorter than the
 * agent's back-off reset (10 min). Not the lifetime RESTARTS count, so a service that restarts
 * now and then over weeks is never taken for a crash loop.
 */
export function recentFailuresOf(i: Instance): number {
  return (i.status?.containers ?? []).reduce((n, c) => n + (c.recentFailures ?? 0), 0);
}
