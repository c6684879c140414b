// The graceful stop of an instance (Instance.spec.stop), as pure helpers: what termination
// applies, and how the stopped containers' exits read. The runner does the steps: not ready at
// once, drain delay, stop signal, grace period, SIGKILL, then phase Succeeded/Failed, reason Stopped.
import type { Instance } from '../../core/index.js';

export interface Termination {
  drainDelaySeconds: number;
  gracePeriodSeconds: number;
  stopSignal: string;
}

/** Exit codes of a process ended by a signal are 128 + its number. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
  SIGWINCH: 28,
};

/** The instance's termination; instances made before it existed: no drain, the agent's grace, SIGTERM. */
export function terminationOf(instance: Instance, defaultGraceSeconds: number): Termination {
  const t = instance.spec.termination;
  return {
    drainDelaySeconds: t?.drainDelaySeconds ?? 0,
    gracePeriodSeconds: t?.gracePeriodSeconds ?? defaultGraceSeconds,
    stopSignal: t?.stopSignal ?? 'SIGTERM',
  };
}

/** Whether an exit code is what a stop asked for: a clean exit, or death by the stop signal itself. */
export function stoppedCleanly(exitCode: number | undefined, stopSignal: string): boolean {
  if (exitCode === undefined || exitCode === 0) return true;
  const n = SIGNAL_NUMBERS[stopSignal];
  return n !== undefined && exitCode === 128 + n;
}

/** SIGKILL's exit code: the grace period ran out (unless SIGKILL was the stop signal). */
export function wasKilled(exitCode: number | undefined, stopSignal: string): boolean {
  return exitCode === 137 && stopSignal !== 'SIGKILL';
}

export function listNames(names: readonly string[]): string {
  return names.length === 1 ? `container ${names[0]!}` : `containers ${names.join(', ')}`;
}

export function seconds(n: number): string {
  return `${n}s`;
}
