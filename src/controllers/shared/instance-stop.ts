// The owner's half of the graceful stop protocol (the agent does the other half): an instance
// that must go gets `spec.stop`; the agent reports it not ready, drains, signals, kills and
// reports it finished with reason Stopped; then the owner deletes the object. The owner deletes
// it without waiting when no agent will act on it: unbound, its node not ready, or the agent
// silent for the whole stop sequence plus a margin.
import { isFinished, type Instance } from '../../core/index.js';

/** Past drain delay + grace period: how long an agent may take to report a stop finished. */
const STOP_MARGIN_MS = 30_000;

export function isStopping(i: Instance): boolean {
  return i.spec.stop !== undefined;
}

/** The time after which a stopping instance is deleted even though its agent never said it stopped. */
export function stopDeadline(i: Instance): number {
  const t = i.spec.termination;
  const at = Date.parse(i.spec.stop?.at ?? '') || 0;
  return at + ((t?.drainDelaySeconds ?? 0) + (t?.gracePeriodSeconds ?? 10)) * 1000 + STOP_MARGIN_MS;
}

/** Whether an agent can still be expected to stop this instance. */
export function agentWillStop(i: Instance, nodeReady: (node: string) => boolean): boolean {
  return i.spec.node !== undefined && nodeReady(i.spec.node);
}

/** A stopping instance whose object can go now. */
export function stopFinished(i: Instance, nodeReady: (node: string) => boolean, nowMs: number): boolean {
  return isFinished(i) || !agentWillStop(i, nodeReady) || nowMs >= stopDeadline(i);
}

/** The instance with `spec.stop` set (a copy; CAS on the revision it was read at). */
export function withStop(i: Instance, reason: string, nowMs: number): Instance {
  return { ...i, spec: { ...i.spec, stop: { at: new Date(nowMs).toISOString(), reason } } };
}
