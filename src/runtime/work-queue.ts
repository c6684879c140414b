// A work queue of keys, shaped like client-go's: adding a key that is already waiting does
// nothing (a burst of events costs one reconcile), a key is never handed to two workers at once
// (re-added while in flight -> processed again once the first run ends), and failures retry with
// per-key exponential backoff. The queue owns its timers and stops cleanly on abort.

export interface WorkQueueOptions {
  /** First retry delay after a failure. */
  baseDelayMs?: number;
  /** Cap on the retry delay. */
  maxDelayMs?: number;
  /**
   * A worker that has handled keys for this long without the event loop getting a turn yields
   * (setImmediate) before the next key (default 10 ms). Handlers whose store calls resolve at
   * once would otherwise run a queue of thousands of keys as one chain of microtasks, and the
   * server would answer no request, heartbeat included, until it ends.
   */
  sliceMs?: number;
}

/** What a handler may ask for besides success: run this key again later. */
export type HandlerResult = void | { requeueAfterMs: number };

export type KeyHandler = (key: string, signal: AbortSignal) => Promise<HandlerResult>;

export class WorkQueue {
  /** FIFO of keys from `head` on; shift() would be O(n) per key on a queue of 100k services. */
  private queue: string[] = [];
  private head = 0;
  /** Keys that need processing (queued, or re-added while in flight). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private readonly failures = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private stopped = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sliceMs: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.sliceMs = opts.sliceMs ?? 10;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    // In flight: done() queues it again, so two workers never hold the same key.
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.wakeOne();
  }

  /** Adds `key` after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { timer, at });
  }

  /** Adds `key` after its backoff: base, doubling with each failure since the last forget(). */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, this.backoffFor(n));
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  backoffFor(failures: number): number {
    return Math.min(this.baseDelayMs * 2 ** Math.min(failures, 30), this.maxDelayMs);
  }

  /**
   * Runs `concurrency` workers until `signal` aborts; resolves once every in-flight handler has
   * returned. A handler that throws is retried with backoff; `onError` hears about it.
   */
  async run(
    handler: KeyHandler,
    signal: AbortSignal,
    concurrency = 1,
    onError?: (key: string, err: unknown) => void,
  ): Promise<void> {
    if (signal.aborted) {
      this.shutDown();
      return;
    }
    const onAbort = () => this.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    const worker = async () => {
      let sliceStart = performance.now();
      for (;;) {
        if (performance.now() - sliceStart >= this.sliceMs) {
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        const key = await this.next();
        if (key === undefined) return;
        try {
          const result = await handler(key, signal);
          this.forget(key);
          if (result && !signal.aborted) this.addAfter(key, result.requeueAfterMs);
        } catch (err) {
          if (!signal.aborted) {
            onError?.(key, err);
            this.addRateLimited(key);
          }
        } finally {
          this.done(key);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops handing out keys and clears every timer; idempotent. */
  shutDown(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.take();
      if (key !== undefined) {
        this.dirty.delete(key);
        this.processing.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }

  /** The oldest queued key; compacts once the consumed prefix is as long as the rest (amortised O(1)). */
  private take(): string | undefined {
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head++];
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return key;
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.stopped) {
      this.queue.push(key);
      this.wakeOne();
    }
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }
}
