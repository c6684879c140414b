// When each CronJob fires next, in memory: a min-heap of (time, key) behind ONE timer, set for
// the earliest entry. The cron controller must not depend on a watch event to fire, and 10,000
// CronJobs must not cost 10,000 timers. Entries are replaced lazily: re-scheduling a key bumps
// its generation, and stale heap entries are skipped when they surface.

export interface FireQueueOptions {
  /** Called with each key whose time has come (at most once per schedule() call). */
  onFire: (key: string) => void;
  now?: () => number;
  /** Timer functions; tests pass fakes. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface Entry {
  at: number;
  key: string;
  gen: number;
}

export class FireQueue {
  private heap: Entry[] = [];
  private readonly current = new Map<string, { at: number; gen: number }>();
  private gen = 0;
  private timer: unknown;
  private timerAt = Infinity;
  private stopped = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly opts: FireQueueOptions) {
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  get size(): number {
    return this.current.size;
  }

  /** The time `key` fires next, if scheduled. */
  nextAt(key: string): number | undefined {
    return this.current.get(key)?.at;
  }

  /** Fires `key` at `at` (ms since the epoch), replacing any earlier schedule of it. */
  schedule(key: string, at: number): void {
    if (this.stopped) return;
    const existing = this.current.get(key);
    if (existing && existing.at === at) return;
    const gen = ++this.gen;
    this.current.set(key, { at, gen });
    this.push({ at, key, gen });
    this.arm();
  }

  remove(key: string): void {
    this.current.delete(key);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.heap = [];
    this.current.clear();
  }

  /** Fires every key that is due now; re-arms for the next. Public for fake-timer tests. */
  fireDue(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    for (let top = this.heap[0]; top && top.at <= now; top = this.heap[0]) {
      this.pop();
      const cur = this.current.get(top.key);
      if (!cur || cur.gen !== top.gen) continue; // replaced or removed meanwhile
      this.current.delete(top.key);
      this.opts.onFire(top.key);
    }
    this.arm();
  }

  private arm(): void {
    // Drop stale entries at the top, so the timer is set for a real one.
    for (let top = this.heap[0]; top && this.current.get(top.key)?.gen !== top.gen; top = this.heap[0]) this.pop();
    const top = this.heap[0];
    if (this.stopped || !top || top.at >= this.timerAt) return;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timerAt = top.at;
    // setTimeout's limit is 2^31-1 ms (24.8 days); a later time re-arms when this one fires.
    this.timer = this.setTimer(() => this.fireDue(), Math.min(Math.max(0, top.at - this.now()), 2 ** 31 - 1));
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
