// Turns SIGINT/SIGTERM into an AbortSignal, so long-running commands stop through the same path
// as everything else. A second signal while stopping exits at once.
export interface ShutdownSignal {
  signal: AbortSignal;
  dispose(): void;
}

export function shutdownOnSignals(onForce: () => void = () => process.exit(130)): ShutdownSignal {
  const controller = new AbortController();
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
