// Exponential back-off for restarting one container (or retrying one image): base, 2x base,
// 4x base ... capped; a container that ran long enough earns a fresh start, as in Kubernetes.

export interface BackoffOptions {
  /** First delay; default 1 s. */
  baseMs: number;
  /** Largest delay; default 5 min. */
  capMs: number;
  /** A run at least this long resets the back-off; default 10 min. */
  resetAfterMs?: number | undefined;
}

export const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>> = {
  baseMs: 1_000,
  capMs: 5 * 60_000,
  resetAfterMs: 10 * 60_000,
};

export class RestartBackoff {
  private failures = 0;
  private readonly resetAfterMs: number;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {
    this.resetAfterMs = opts.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs;
  }

  /** The delay before the next attempt; `ranForMs` is how long the last run lasted, if known. */
  next(ranForMs?: number): number {
    if (ranForMs !== undefined && ranForMs >= this.resetAfterMs) this.failures = 0;
    const delay = Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(this.failures, 40));
    this.failures++;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }

  /** Failures in a row since the last run long enough to reset the back-off. */
  get streak(): number {
    return this.failures;
  }
}

/** `500ms`, `8s`, `5m0s`: how back-off delays read in status messages. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}
