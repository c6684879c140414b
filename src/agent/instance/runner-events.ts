// The words of an instance's events: what a user reads in `gantry describe instance`. Kept apart
// from the runner so each message can be checked on its own and reads the same everywhere.
import type { RestartPolicy } from '../../core/index.js';
import { formatDelay } from './restart-backoff.js';
import type { Slot } from './container-slot.js';

export type RunnerEventType = 'Normal' | 'Warning';

/** Called by a runner for each event about its instance. */
export type RunnerEventSink = (type: RunnerEventType, reason: string, message: string) => void;

/** Docker ids are 64 hex characters; 12 is what `docker ps` shows. */
function shortId(id: string): string {
  return id.slice(0, 12);
}

export function startedMessage(slot: Slot): string {
  return `started container ${slot.spec.name} (id ${shortId(slot.id ?? '?')})`;
}

/** How the last run of a container ended, as part of a sentence: "container web exited with code 137". */
export function exitText(slot: Slot): string {
  const name = `container ${slot.spec.name}`;
  if (slot.killedByHealth) return `${name} was stopped after failing its health check`;
  const st = slot.state;
  if (st?.oomKilled) return `${name} ran out of memory and was killed (exit code ${st.exitCode ?? 137})`;
  if (st?.exitCode === undefined) return `${name} disappeared`;
  return `${name} exited with code ${st.exitCode}`;
}

export function backOffMessage(slot: Slot, delayMs: number): string {
  return `${exitText(slot)}; restarting in ${formatDelay(delayMs)} (restart ${slot.restartCount + 1})`;
}

export function notRestartingMessage(slot: Slot, policy: RestartPolicy): string {
  return `${exitText(slot)}; not restarting (restartPolicy ${policy})`;
}

export function unhealthyMessage(slot: Slot, failures: number, reason: string, policy: RestartPolicy): string {
  const action = policy === 'Never' ? 'stopping' : 'restarting';
  return `health check failed ${failures} time${failures === 1 ? '' : 's'}: ${reason}; ${action} container ${slot.spec.name}`;
}
