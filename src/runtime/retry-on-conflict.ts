// The one compare-and-swap retry loop (as client-go's retry.RetryOnConflict): run `attempt`, which
// reads the object, decides and writes it with the revision it read; when the write loses a race
// (another writer got there first), run it again on a fresh read. Retries come at once: the loser
// of a CAS race re-reads a newer object, there is nothing to wait for.
import { isAppError } from '../core/index.js';

/** Attempts in all, the first included, unless the caller says otherwise. */
export const CONFLICT_ATTEMPTS = 5;

export interface RetryOnConflictOptions {
  /** Attempts in all, the first included; default CONFLICT_ATTEMPTS. */
  attempts?: number | undefined;
  /**
   * Whether an error is a lost race worth a fresh read; default: any CONFLICT (a StaleRevisionError
   * from the store, a 409 through the client). Narrow it when `attempt` throws conflicts of its own
   * that a re-read does not change (say, `e instanceof StaleRevisionError`).
   */
  retryable?: ((error: unknown) => boolean) | undefined;
  /** Stops before the next attempt: the call rejects with the signal's reason, as an aborted fetch does. */
  signal?: AbortSignal | undefined;
  /** Told about each lost race before the next attempt (for a log line). */
  onRetry?: ((error: unknown, attempt: number) => void) | undefined;
}

/** `attempt`'s result; rethrows at once what is not retryable, and the last conflict when attempts run out. */
export async function retryOnConflict<T>(attempt: (n: number) => Promise<T>, opts: RetryOnConflictOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? CONFLICT_ATTEMPTS;
  const retryable = opts.retryable ?? ((e: unknown) => isAppError(e, 'CONFLICT'));
  for (let n = 1; ; n++) {
    opts.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (e) {
      if (n >= attempts || !retryable(e) || opts.signal?.aborted) throw e;
      opts.onRetry?.(e, n);
    }
  }
}
