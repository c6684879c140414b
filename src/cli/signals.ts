// Turns SIGINT/SIGTERM into an AbortSignal, so long-running commands stop through the same path
// as everything else. A second signal while stopping exits at once.
import { setMaxListeners } from 'node:events';

/** Listeners one process-wide stop signal may have before Node warns of a leak. */
export const LONG_RUNNING_LOOPS = 100;

export interface ShutdownSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function shutdownOnSignals(onForce: () => void = () => process.exit(130)): ShutdownSignal {
  const controller = new AbortController();
  // The server's and the agent's long-running loops all stop on this signal (not a leak).
  setMaxListeners(LONG_RUNNING_LOOPS, controller.signal);
  const handler = () => {
    if (controller.signal.aborted) onForce();
    else controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
