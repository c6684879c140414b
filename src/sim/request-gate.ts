// Caps the API calls all hollow nodes of a process have in flight at once. Node's fetch opens a
// new keep-alive connection whenever every pooled one is busy, and never fewer than the calls in
// flight: at 10,000 nodes a server that slows down for a moment (2,000 heartbeats a second
// queueing behind it) made the pool grow by thousands of sockets until the process ran out of
// file descriptors. Behind this gate the calls wait in the simulator instead, on no socket.
// Watches and logs are long-lived streams on their own connections and pass straight through.
import type { GantryClient } from '../client/types.js';

export const DEFAULT_MAX_IN_FLIGHT = 256;

export class RequestGate {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number = DEFAULT_MAX_IN_FLIGHT) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RequestGate limit must be a whole number above 0, not ${limit}`);
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `fn` once fewer than `limit` calls are in flight, first come first served. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting[this.head];
    if (next === undefined) {
      this.inFlight--;
      return;
    }
    // The slot passes straight to the next caller (inFlight unchanged).
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    next();
  }
}

const STREAMS: ReadonlySet<PropertyKey> = new Set(['watch', 'logs']);

/** `client` with every call except watch and logs passed through `gate`. */
export function withRequestGate(client: GantryClient, gate: RequestGate): GantryClient {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Methods run against the real client, whose private fields a Proxy receiver would not have.
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (STREAMS.has(prop)) return method;
      return (...args: unknown[]) => gate.run(async () => method(...args));
    },
  });
}
