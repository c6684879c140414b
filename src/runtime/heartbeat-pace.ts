import { MAX_HEARTBEAT_INTERVAL_MS, type Store } from '../core/index.js';

// How often agents heartbeat as the cluster grows: Nomad's answer to heartbeat load. Agents
// heartbeat at their own interval (5 s by default) until the cluster has more Nodes than
// MAX_HEARTBEATS_PER_SECOND (500 by default) × 5 s; beyond that the server asks every agent for a
// longer interval (whole seconds) with each heartbeat's answer (`Gantry-Heartbeat-Interval`), so
// the load stays near flat: 10 s at 5,000 nodes, 20 s at 10,000 (agents' jitter sends up to a
// fifth more). Nomad scales its heartbeat TTL the same way (50 a second by default); Kubernetes
// renews a node's lease every 10 s. Below the cap the server says nothing,
// and an agent set to beat faster (for a short lostAfter) keeps its own interval. The count is of
// Node objects, the same on every server (a lease table is not: see NodeCount).
//
// A node heartbeating every 10 s may be silent 5 s longer between beats than one at 5 s, so the
// node controller tolerates twice that much more silence (two missed beats, as 15 s tolerates two
// at 5 s): the grace period and every lostAfter stretch by heartbeatStretchMs (10 s at 5,000 nodes,
// 30 s at 10,000). Below the cap both are exactly what the operator and the services set.

/** The interval every agent uses in a cluster below the cap (the agent's default). */
export const BASE_HEARTBEAT_INTERVAL_MS = 5000;
/**
 * The most heartbeats a second the server asks for, all nodes together (server
 * --max-heartbeats-per-second). 1,000 until the nineteenth session: `npm run bench -- idle` at
 * 5,000 nodes measured each heartbeat at about 125 µs of the server's CPU and 160 µs of the
 * simulator's (TLS, HTTP, the hooks, the loopback write), 0.335 -> 0.264 server cores and 0.373
 * -> 0.283 sim cores from 1,000 to 500 a second; a rollout pays that floor too.
 */
export const MAX_HEARTBEATS_PER_SECOND = 500;
/** The rates a server takes (--max-heartbeats-per-second), and a leader's published one must be in. */
export const HEARTBEAT_RATE_RANGE = { min: 10, max: 100_000 } as const;

/** Whether `n` is a rate a server takes: a whole number in HEARTBEAT_RATE_RANGE. */
export function isHeartbeatRate(n: number): boolean {
  return Number.isInteger(n) && n >= HEARTBEAT_RATE_RANGE.min && n <= HEARTBEAT_RATE_RANGE.max;
}

/**
 * The rate the pace aims at, read at each use: on one server its own flag; on etcd the leader's,
 * which every server answers with, so the intervals agents are asked for are the ones the
 * leader's node controller stretches its patience by (server/etcd-heartbeat-pace.ts).
 */
export type HeartbeatRate = () => number;

/**
 * The interval the server asks of every agent with `nodes` nodes: at least the base, whole
 * seconds, and at most the 60 s agents take (MAX_HEARTBEAT_INTERVAL_MS): past that a cluster
 * sends more than `maxPerSecond`, rather than the node controller waiting for beats that do not
 * come that slowly.
 */
export function heartbeatIntervalFor(nodes: number, maxPerSecond = MAX_HEARTBEATS_PER_SECOND): number {
  const spread = Math.ceil(nodes / maxPerSecond) * 1000;
  return Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.max(BASE_HEARTBEAT_INTERVAL_MS, spread));
}

/** The extra silence the node controller tolerates because of that interval (0 below the cap). */
export function heartbeatStretchMs(nodes: number, maxPerSecond = MAX_HEARTBEATS_PER_SECOND): number {
  return 2 * (heartbeatIntervalFor(nodes, maxPerSecond) - BASE_HEARTBEAT_INTERVAL_MS);
}

/** The interval to ask agents for, or undefined below the cap (they keep their own). */
export function advisedIntervalFor(nodes: number, maxPerSecond = MAX_HEARTBEATS_PER_SECOND): number | undefined {
  const interval = heartbeatIntervalFor(nodes, maxPerSecond);
  return interval > BASE_HEARTBEAT_INTERVAL_MS ? interval : undefined;
}

/**
 * How many Node objects the store holds, read again at most every `refreshMs` (default 5 s)
 * without making a caller wait: the API's heartbeat answers ask for the pace of this count, and
 * the node controller stretches silence by the same count from its own list.
 */
export class NodeCount {
  private count = 0;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<Store, 'list'>,
    private readonly refreshMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last count read (0 before the first read ends); starts a read when it is old. */
  current(): number {
    if (!this.reading && this.now() - this.readAt >= this.refreshMs) {
      this.readAt = this.now();
      this.reading = this.store
        .list('Node')
        .then((r) => void (this.count = r.items.length))
        .catch(() => undefined)
        .finally(() => (this.reading = undefined));
    }
    return this.count;
  }

  /** Resolves once a read under way has ended (tests). */
  async settled(): Promise<void> {
    await this.reading;
  }
}
