// Turns what an instance runner knows about its containers into the InstanceStatus it reports.
// Pure: the runner decides, this only describes.
import type { ContainerStatus, InstancePhase, InstanceStatus } from '../../core/index.js';
import type { ContainerState } from '../../drivers/driver.js';

export interface ContainerView {
  name: string;
  id?: string | undefined;
  state?: ContainerState | undefined;
  /** The container exited and is not running now (as opposed to created, never started). */
  exited: boolean;
  /** Waiting for its back-off to pass before a restart. */
  backingOff: boolean;
  restartCount: number;
  /** Failures in a row (RestartBackoff.streak); reported when above 0. */
  recentFailures?: number | undefined;
  message?: string | undefined;
  /** Health check passing, or no health check. */
  healthy: boolean;
}

export interface StatusInput {
  nodeName: string;
  hostIP: string;
  containers: readonly ContainerView[];
  /** Set while the instance cannot start, e.g. its image is missing. */
  pending?: { reason: string; message: string } | undefined;
  /** Set while a requested stop (spec.stop) is in progress: not ready from the first moment. */
  stopping?: { reason: string; message: string } | undefined;
  /** Set once the instance finished for good (restart policy OnFailure or Never). */
  terminal?: { phase: 'Succeeded' | 'Failed'; reason: string; message: string } | undefined;
  startedAt?: string | undefined;
  /** Init containers as far as they ran (init-phase.ts); left out when the spec has none. */
  initContainers?: ContainerStatus[] | undefined;
  /** What isolation the node gave it (pinned cores, lxcfs /proc views); left out when nothing to say. */
  isolation?: InstanceStatus['isolation'] | undefined;
}

function containerStatus(v: ContainerView): ContainerStatus {
  const running = v.state?.running === true;
  const state: ContainerStatus['state'] = running ? 'running' : v.exited && !v.backingOff ? 'exited' : 'waiting';
  return {
    name: v.name,
    containerId: v.id,
    state,
    restartCount: v.restartCount,
    ...(v.recentFailures ? { recentFailures: v.recentFailures } : {}),
    hostPorts: { ...(v.state?.hostPorts ?? {}) },
    exitCode: !running && v.exited ? v.state?.exitCode : undefined,
    startedAt: v.state?.startedAt,
    ...(running && v.state?.lastFinishedAt ? { lastFinishedAt: v.state.lastFinishedAt } : {}),
    message: v.message,
  };
}

export function buildInstanceStatus(input: StatusInput): InstanceStatus {
  const containers = input.containers.map(containerStatus);
  const allRunning = containers.length > 0 && containers.every((c) => c.state === 'running');
  let phase: InstancePhase;
  let reason: string | undefined;
  let message: string | undefined;
  if (input.terminal) {
    ({ phase, reason, message } = input.terminal);
  } else if (input.stopping) {
    phase = allRunning ? 'Running' : 'Starting';
    ({ reason, message } = input.stopping);
  } else if (input.pending) {
    phase = 'Pending';
    ({ reason, message } = input.pending);
  } else {
    phase = allRunning ? 'Running' : 'Starting';
  }
  return {
    phase,
    ready: !input.terminal && !input.stopping && allRunning && input.containers.every((c) => c.healthy),
    node: input.nodeName,
    hostIP: input.hostIP,
    reason,
    message,
    containers,
    ...(input.initContainers ? { initContainers: input.initContainers } : {}),
    startedAt: input.startedAt,
    ...(input.isolation ? { isolation: input.isolation } : {}),
  };
}
