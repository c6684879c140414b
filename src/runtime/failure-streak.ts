import type { Logger } from 'pino';

/** While a failure keeps repeating, how often it is logged at warn again (with the count so far). */
export const REPEAT_WARN_MS = 60_000;

export interface FailureStreakOptions {
  /** The info line logged by the first success after failures ("heartbeats answered again"). */
  recovered: string;
  now?: () => number;
  repeatWarnMs?: number;
}

/**
 * One warn line for a run of the same failing attempt, not one per attempt: the first failure of
 * a run is logged at warn, the retries after it at debug (and at warn again every
 * `REPEAT_WARN_MS`, with the count so far), and the first success after them at info with how
 * many failed and for how long. The 5,000 agents of a server-restart bench had logged 36,000 warn
 * lines while the server was down; an operator needs to see that an agent lost the server, that
 * it still has not got it back after a minute, and when it did.
 */
export class FailureStreak {
  private failures = 0;
  private since = 0;
  private lastWarnAt = 0;
  private readonly now: () => number;
  private readonly repeatWarnMs: number;

  constructor(
    private readonly log: Logger | undefined,
    private readonly opts: FailureStreakOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.repeatWarnMs = opts.repeatWarnMs ?? REPEAT_WARN_MS;
  }

  /** Attempts that failed since the last success. */
  get count(): number {
    return this.failures;
  }

  /** Logs a failed attempt: at warn if it starts a run or a repeat interval has passed, else at debug. */
  failed(fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (this.failures === 0) this.since = now;
    this.failures++;
    const line = { ...fields, failures: this.failures, ...(this.failures > 1 && { failingForMs: now - this.since }) };
    if (this.failures === 1 || now - this.lastWarnAt >= this.repeatWarnMs) {
      this.lastWarnAt = now;
      this.log?.warn(line, this.failures === 1 ? message : `${message} (still failing)`);
    } else {
      this.log?.debug(line, message);
    }
  }

  /** Ends a run of failures, if there was one, with one info line. Cheap when there was none. */
  succeeded(fields?: Record<string, unknown>): void {
    if (this.failures === 0) return;
    this.log?.info({ ...fields, failures: this.failures, failingForMs: this.now() - this.since }, this.opts.recovered);
    this.failures = 0;
  }
}
