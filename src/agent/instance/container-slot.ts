// What an instance runner knows about one of its containers (a "slot" of spec.containers), and
// the decisions that only need that: adoption, whether it exited or failed, what an exit means
// under the restart policy.
import type { ContainerSpec, ContainerStatus, RestartPolicy } from '../../core/index.js';
import type { ContainerState } from '../../drivers/driver.js';
import type { HealthChecker } from './health-checker.js';
import type { ContainerView } from './instance-status.js';
import { RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';

export interface Slot {
  readonly spec: ContainerSpec;
  readonly index: number;
  readonly backoff: RestartBackoff;
  id?: string | undefined;
  state?: ContainerState | undefined;
  /** We started this id ourselves, so "not running" surely means it exited. */
  startedByUs: boolean;
  /** Some container for this slot ran before: the next start is a restart. */
  everRan: boolean;
  restartCount: number;
  restartAt?: number | undefined;
  message?: string | undefined;
  /** Exited for good under the restart policy. */
  done: boolean;
  /** Set by the health checker: stop and restart this container. */
  unhealthy?: string | undefined;
  killedByHealth: boolean;
  health?: HealthChecker | undefined;
  /** `id|startedAt` the health checker runs for. */
  healthFor?: string | undefined;
  /** Adopted while the instance was reported ready: stays ready until a probe says otherwise. */
  assumeHealthy?: boolean | undefined;
}

export function newSlot(spec: ContainerSpec, index: number, backoff: BackoffOptions): Slot {
  return { spec, index, backoff: new RestartBackoff(backoff), startedByUs: false, everRan: false, restartCount: 0, done: false, killedByHealth: false };
}

/**
 * Hands containers a previous agent left to their slots, as they are. Returns the ones to
 * destroy: names the spec does not have, and duplicates (a running one is kept over others).
 */
export function adoptContainers(
  slots: readonly Slot[],
  found: readonly ContainerState[],
  reported: readonly ContainerStatus[],
  wasReady: boolean,
): ContainerState[] {
  const strays: ContainerState[] = [];
  for (const st of found) {
    const slot = slots.find((s) => s.spec.name === st.container);
    if (!slot || (slot.state && (slot.state.running || !st.running))) {
      strays.push(st);
      continue;
    }
    if (slot.state) strays.push(slot.state);
    slot.id = st.id;
    slot.state = st;
    slot.everRan = st.startedAt !== undefined;
    slot.assumeHealthy = st.running && wasReady;
    // The server remembers how often it was restarted before this agent started.
    slot.restartCount = reported.find((c) => c.name === st.container && c.containerId === st.id)?.restartCount ?? 0;
  }
  return strays;
}

export function hasExited(slot: Slot): boolean {
  const s = slot.state;
  return !!s && !s.running && (slot.startedByUs || s.startedAt !== undefined || s.finishedAt !== undefined);
}

export function hasFailed(slot: Slot): boolean {
  return slot.killedByHealth || slot.state?.exitCode !== 0;
}

/** Records an exit: done for good under the policy, or a restart due after back-off. */
export function applyExit(slot: Slot, policy: RestartPolicy, now: number): 'done' | 'restart' {
  slot.health?.stop();
  slot.healthFor = undefined;
  const failed = hasFailed(slot);
  const st = slot.state;
  if (policy === 'Never' || (policy === 'OnFailure' && !failed)) {
    slot.done = true;
    slot.message = !failed ? undefined : slot.killedByHealth ? 'killed after failing its health check' : `exited with code ${st?.exitCode ?? 'unknown'}`;
    return 'done';
  }
  const ranFor = st?.startedAt && st.finishedAt ? Date.parse(st.finishedAt) - Date.parse(st.startedAt) : undefined;
  const delay = slot.backoff.next(ranFor !== undefined && Number.isFinite(ranFor) ? ranFor : undefined);
  slot.restartAt = now + delay;
  const what = slot.killedByHealth ? 'unhealthy' : failed ? 'failed' : 'exited';
  slot.message = `back-off ${formatDelay(delay)} restarting ${what} container`;
  return 'restart';
}

export function slotView(slot: Slot): ContainerView {
  return {
    name: slot.spec.name,
    id: slot.id,
    state: slot.state,
    exited: hasExited(slot),
    backingOff: slot.restartAt !== undefined,
    restartCount: slot.restartCount,
    recentFailures: slot.backoff.streak,
    message: slot.message ?? (slot.state?.running ? slot.health?.lastMessage : undefined),
    healthy: slot.health ? slot.health.healthy : true,
  };
}

/** Runs the health checker for exactly the current run of a running container. */
export function syncHealth(slot: Slot): void {
  if (!slot.health) return;
  if (!slot.state?.running) {
    slot.health.stop();
    slot.healthFor = undefined;
    return;
  }
  const key = `${slot.state.id}|${slot.state.startedAt ?? ''}`;
  if (slot.healthFor === key) return;
  slot.healthFor = key;
  slot.health.start(slot.assumeHealthy ?? false);
  slot.assumeHealthy = false;
}
