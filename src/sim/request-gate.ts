// Caps the API calls all hollow nodes of a process have in flight at once. Node's fetch opens a
// new keep-alive connection whenever every pooled one is busy, and never fewer than the calls in
// flight: at 10,000 nodes a server that slows down for a moment (2,000 heartbeats a second
// queueing behind it) made the pool grow by thousands of sockets until the process ran out of
// file descriptors. Behind this gate the calls wait in the simulator instead, on no socket.
// Watches and logs are long-lived streams on their own connections and pass straight through.
import type { GantryClient } from '../client/types.js';

export const DEFAULT_MAX_IN_FLIGHT = 256;
/**
 * Slots beyond the limit that only urgent calls (heartbeats) may take. Jumping the queue was not
 * enough: at 2,000 nodes on a starved machine all 256 slots sat in slow status reports and
 * heartbeats still waited 9 s for one to free. The pool has as many more sockets.
 *
 * Not more: one slot per ten nodes (500 at 5,000) let heartbeats through faster after a server
 * restart, but cost the 5,000-node deploy 35-60 s (A/B on 2026-12-06, as printed: all Running at
 * 147.7-167.0 s with 500 slots, 105.3-124.2 s with 32; the sim's CPU 155-178 s against 105-124 s),
 * and did not bring the nodes back sooner (35.5 s against 30.5 s).
 */
export const URGENT_RESERVE = 32;

/**
 * Calls that must not wait behind the others. A heartbeat that queues behind a burst of status
 * reports reaches the server late, and a node that heartbeats late is declared lost: at 5,000
 * nodes that turned one slow minute into churn (instances replaced, more reports, later
 * heartbeats). A real agent has a connection of its own; the sim's shared gate must not make
 * heartbeats pay for other nodes' traffic.
 */
const URGENT: ReadonlySet<PropertyKey> = new Set(['heartbeat']);

/** How many recent urgent waits the gate keeps for urgentWaitPercentile (a ring). */
const WAIT_SAMPLES = 4096;

export class RequestGate {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private readonly urgentWaiting: (() => void)[] = [];
  private urgentHead = 0;
  /** The last WAIT_SAMPLES urgent calls' waits for a slot, ms (a ring; NaN: empty). */
  private readonly urgentWaits = new Float64Array(WAIT_SAMPLES).fill(Number.NaN);
  private urgentCount = 0;

  private readonly now: () => number;
  /** Extra slots for urgent calls only (default 0). */
  readonly urgentReserve: number;

  constructor(
    readonly limit: number = DEFAULT_MAX_IN_FLIGHT,
    opts: { urgentReserve?: number; now?: () => number } = {},
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RequestGate limit must be a whole number above 0, not ${limit}`);
    this.urgentReserve = opts.urgentReserve ?? 0;
    this.now = opts.now ?? (() => performance.now());
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length - this.head + this.urgentWaiting.length - this.urgentHead;
  }

  /**
   * Runs `fn` once fewer than `limit` calls are in flight, first come first served within a lane;
   * an `urgent` call takes the next free slot before any normal one that waits.
   */
  async run<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    const start = urgent ? this.now() : 0;
    if (this.inFlight < this.limit || (urgent && this.inFlight < this.limit + this.urgentReserve)) this.inFlight++;
    else await new Promise<void>((resolve) => (urgent ? this.urgentWaiting : this.waiting).push(resolve));
    if (urgent) this.urgentWaits[this.urgentCount++ % WAIT_SAMPLES] = this.now() - start;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /**
   * The p-th percentile (0-100) of how long the recent urgent calls (heartbeats) waited for a
   * slot, ms, and how many calls that covers; undefined before the first. The sim reports it: a
   * late heartbeat is then visibly the simulator's fault, not the server's.
   */
  urgentWaitPercentile(p: number): { ms: number; samples: number } | undefined {
    const samples = Math.min(this.urgentCount, WAIT_SAMPLES);
    if (samples === 0) return undefined;
    const sorted = this.urgentWaits.slice(0, samples).sort();
    const rank = Math.min(samples - 1, Math.max(0, Math.ceil((p / 100) * samples) - 1));
    return { ms: sorted[rank]!, samples };
  }

  private release(): void {
    // The slot passes straight to the next caller (inFlight unchanged): an urgent one first; a
    // normal one only if the slot is not one of the reserve (the limit is then still kept).
    const urgent = this.urgentWaiting[this.urgentHead];
    if (urgent !== undefined) {
      this.urgentHead = compact(this.urgentWaiting, this.urgentHead + 1);
      urgent();
      return;
    }
    const next = this.inFlight > this.limit ? undefined : this.waiting[this.head];
    if (next === undefined) {
      this.inFlight--;
      return;
    }
    this.head = compact(this.waiting, this.head + 1);
    next();
  }
}

/** Drops the consumed front of a queue once it is most of the array; returns the new head. */
function compact(queue: (() => void)[], head: number): number {
  if (head > 1024 && head * 2 > queue.length) {
    queue.splice(0, head);
    return 0;
  }
  return head;
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
      return (...args: unknown[]) => gate.run(async () => method(...args), URGENT.has(prop));
    },
  });
}
