// What an instance's phase means, named once. Every part of the system (controllers, the API's
// status checks, agents, the CLI, benchmarks) asks these instead of listing phases itself.
//
//   Pending ── Starting ── Running ──┬── Succeeded ┐ terminal: its containers ended (the agent
//      (unbound, then bound)         └── Failed    ┘ saw it); nothing of it runs on its node
//   any phase ── Lost: its node fell silent (the node controller decided); its containers may
//                still run there, and do until the returning agent removes them
//   finished = terminal or Lost: it never runs again; its owner replaces it, never repairs it
import type { Instance, InstancePhase } from './schema.js';

type PhaseOf = { status?: { phase?: InstancePhase | undefined } | undefined };

/** Succeeded or Failed: the instance's containers have ended, on the agent's word. */
export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Succeeded, Failed or Lost: the instance never runs again (its owner replaces it). */
export function isFinishedPhase(phase: string | undefined): boolean {
  return isTerminalPhase(phase) || phase === 'Lost';
}

/** See isFinishedPhase. */
export function isFinished(i: PhaseOf): boolean {
  return isFinishedPhase(i.status?.phase);
}

/** See isTerminalPhase. Unlike a finished one, a Lost instance is not terminal. */
export function isTerminal(i: PhaseOf): boolean {
  return isTerminalPhase(i.status?.phase);
}

/** Declared lost by the node controller (its node fell silent); maybe still running there. */
export function isLost(i: PhaseOf): boolean {
  return i.status?.phase === 'Lost';
}

/** Not finished: the instance counts towards its owner's replicas. */
export function isLive(i: PhaseOf): boolean {
  return !isFinished(i);
}

/** Live and reported ready by its agent. */
export function isReady(i: Instance): boolean {
  return i.status?.ready === true && isLive(i);
}

/** Waiting for the scheduler: no node yet, and Pending (or no status yet). */
export function isUnboundPending(i: Instance): boolean {
  return !i.spec.node && (i.status?.phase ?? 'Pending') === 'Pending';
}
