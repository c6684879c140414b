// A token bucket: at most `ratePerSecond` operations a second on average, bursts of up to `burst`.
// Waiters are served in order by one timer, armed only while someone waits (idle buckets of
// thousands of hollow nodes cost nothing).
import { UnavailableError } from '../../core/index.js';

export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Default: ratePerSecond (one second's worth). */
  burst?: number | undefined;
  /** For tests. */
  now?: (() => number) | undefined;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(private readonly opts: TokenBucketOptions) {
    if (!(opts.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0');
    this.burst = Math.max(1, opts.burst ?? opts.ratePerSecond);
    this.now = opts.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** How many operations waited for a token, for logs and tests. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when the caller may do one operation; rejects UNAVAILABLE once closed. */
  take(): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('the agent is stopping; container operations are over'));
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.arm();
    });
  }

  /** Rejects every waiter; later take()s reject at once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new UnavailableError('the agent is stopping; container operations are over'));
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.opts.ratePerSecond);
    this.last = t;
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.opts.ratePerSecond) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, wait);
  }

  private release(): void {
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.waiters.shift()!.resolve();
    }
    if (this.waiters.length > 0) this.arm();
  }
}
