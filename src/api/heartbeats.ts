// POST /api/v1/nodes/{name}/heartbeat, the agent's "I am alive": it renews the node's lease (in
// memory, node-leases.ts) and writes the store only when someone must see a change: the node
// turns ready (Ready=True, NodeHeartbeating), or its stored heartbeat is older than the persist
// interval (so the stored status is at most that stale).
//
// With leases, those writes happen after the answer (HeartbeatWrites): an agent heartbeats in a
// loop and waits for each answer before the next, so a heartbeat that waited for a store write
// held that node's next heartbeats behind every write queued before it. At 5,000 nodes on a busy
// server that queue was tens of seconds deep; the lease then went stale for that long and the
// node controller declared healthy nodes lost. The lease is what says the node is alive, and it
// is renewed before the answer; the stored copy may follow.
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { getCondition, HEARTBEAT_INTERVAL_HEADER, LEASE_HEADER, LEASE_RENEWED, NotFoundError, setCondition, type GantryNode, type NodeStatus } from '../core/index.js';
import { advisedIntervalFor, BASE_HEARTBEAT_INTERVAL_MS, heartbeatIntervalFor, type HeartbeatRate, type NodeCount } from '../runtime/heartbeat-pace.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import type { Store } from '../store/store.js';

export interface HeartbeatOptions {
  /**
   * The in-memory lease table the node controller reads. Without it every heartbeat is a store
   * write (and is answered after it), since the stored `lastHeartbeat` is then all the node
   * controller has to go by.
   */
  leases?: NodeLeases | undefined;
  /** With leases: rewrite a ready node's `status.lastHeartbeat` once it is this old (default 60 s; stretched in a big cluster, persistIntervalOf). */
  persistIntervalMs?: number | undefined;
  /** With leases: where the writes go after the answer; absent: the answer waits for them. */
  writes?: HeartbeatWrites | undefined;
  /** With leases: the cluster's size, for the pace the answers ask of agents (heartbeat-pace.ts). */
  nodes?: NodeCount | undefined;
  /** The heartbeat rate that pace aims at, all nodes together, read at each use (default MAX_HEARTBEATS_PER_SECOND). */
  rate?: HeartbeatRate | undefined;
}

const DEFAULT_HEARTBEAT_PERSIST_MS = 60_000;

/**
 * Renews `name`'s lease and, when the stored status must change, writes it (or hands the write
 * to `opts.writes`). 404 tells the agent to register again.
 */
export async function heartbeat(store: Store, name: string, now: Date, opts: HeartbeatOptions = {}): Promise<void> {
  const { leases, writes } = opts;
  const node = await store.get('Node', undefined, name);
  if (!node) throw new NotFoundError('Node', undefined, name, `node "${name}" is not registered; the agent registers it (PUT /api/v1/nodes/${name}) and then heartbeats`);
  leases?.renew(name, now.getTime());
  const persistMs = persistIntervalOf(opts);
  if (leases && !needsWrite(node, now, persistMs)) return;
  if (leases && writes) writes.start(name, () => persistHeartbeat(store, name, now, persistMs));
  else await persistHeartbeat(store, name, now, leases ? persistMs : 0);
}

/**
 * How old a ready node's stored heartbeat may get before a heartbeat rewrites it: the persist
 * interval (60 s), stretched as the pace stretches the heartbeats of a big cluster
 * (heartbeat-pace.ts; by default 120 s at 5,000 nodes, 240 s at 10,000). Unstretched, those writes
 * grew with the cluster (one Node update per node a minute: 83 a second at 5,000 nodes, 12% of
 * an idle server's CPU there); stretched, they stay near the cap's (about 42 a second).
 */
export function persistIntervalOf(opts: Pick<HeartbeatOptions, 'persistIntervalMs' | 'nodes' | 'rate'>): number {
  const base = opts.persistIntervalMs ?? DEFAULT_HEARTBEAT_PERSIST_MS;
  if (!opts.nodes) return base;
  return Math.round((base * heartbeatIntervalFor(opts.nodes.current(), opts.rate?.())) / BASE_HEARTBEAT_INTERVAL_MS);
}

/**
 * A node's report (status, events) is proof of life too: `node`'s lease is renewed as by a
 * heartbeat and the answer says so (`Gantry-Lease: renewed`), so the agent may skip the heartbeat
 * due next. At 5,000 nodes rolling out, reports are about half the requests and heartbeats the
 * other half. Only with leases and deferred writes (the answer never waits for a store write);
 * `node` undefined (not a node's credential) or not registered: nothing. Never throws.
 */
export async function heartbeatFromReport(store: Store, node: string | undefined, now: Date, opts: HeartbeatOptions, reply: FastifyReply): Promise<void> {
  if (node === undefined || !opts.leases || !opts.writes) return;
  try {
    await heartbeat(store, node, now, opts);
  } catch {
    return; // not registered: its real heartbeat gets the 404 that makes the agent register again
  }
  void reply.header(LEASE_HEADER, LEASE_RENEWED);
  advisePace(reply, opts.nodes, opts.rate);
}

/**
 * Asks the agent for the heartbeat interval the cluster's size calls for (heartbeat-pace.ts), in
 * the answer to a heartbeat or a report taken as one; below the cap (or without a count), nothing:
 * the agent keeps its own.
 */
export function advisePace(reply: FastifyReply, nodes: NodeCount | undefined, rate?: HeartbeatRate): void {
  const interval = nodes && advisedIntervalFor(nodes.current(), rate?.());
  if (interval !== undefined) void reply.header(HEARTBEAT_INTERVAL_HEADER, String(interval));
}

/**
 * Writes `name`'s heartbeat at `now` as read again now (retrying on a conflict), unless the
 * stored status no longer needs it: the node is gone, or another write got there first.
 */
async function persistHeartbeat(store: Store, name: string, now: Date, persistMs: number): Promise<GantryNode | undefined> {
  return retryOnConflict(async () => {
    const node = await store.get('Node', undefined, name);
    if (!node || !needsWrite(node, now, persistMs)) return node;
    // Until the agent writes its fingerprint, the node has no capacity: placement will skip it.
    const base: NodeStatus = node.status ?? { ready: false, capacity: { cpu: 0, memory: 0 }, driver: 'unknown', conditions: [] };
    const at = now.toISOString();
    // Coming back from not ready: the node controller's Ready=False/NodeLost must not outlive it.
    const conditions = isReady(base)
      ? base.conditions
      : setCondition(base.conditions, { type: 'Ready', status: 'True', reason: 'NodeHeartbeating', message: `node ${name} is sending heartbeats` }, at);
    return store.update({ ...node, status: { ...base, ready: true, lastHeartbeat: at, conditions } });
  });
}

function isReady(status: NodeStatus | undefined): boolean {
  return status?.ready === true && getCondition(status.conditions, 'Ready')?.status !== 'False';
}

/** Whether a heartbeat at `now` must reach the stored status: not ready, or a stale stored heartbeat. */
function needsWrite(node: GantryNode, now: Date, persistMs: number): boolean {
  return !isReady(node.status) || heartbeatStale(node.status?.lastHeartbeat, now, persistMs);
}

/**
 * True when the stored heartbeat is missing, unreadable, at least `persistMs` old, or ahead of
 * our clock (an agent's registration stamps its own clock; the node controller takes the later of
 * lease and stored heartbeat, so a skewed future stamp would hide the node's silence).
 */
function heartbeatStale(lastHeartbeat: string | undefined, now: Date, persistMs: number): boolean {
  const last = Date.parse(lastHeartbeat ?? '');
  const age = now.getTime() - last;
  return !Number.isFinite(last) || age >= persistMs || age < 0;
}

/**
 * Heartbeat writes that run after their answers, at most one per node at a time: a node whose
 * write is still queued (a busy store) adds no second one; its next heartbeat after that write
 * ends starts another if the stored status still needs it. A failed write is logged and left to
 * the next heartbeat.
 */
export class HeartbeatWrites {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Runs `write` for `node` unless one for that node is still running. */
  start(node: string, write: () => Promise<unknown>): void {
    if (this.pending.has(node)) return;
    const done = write().then(
      () => undefined,
      (e: unknown) => this.logger.warn({ node, err: e instanceof Error ? e.message : String(e) }, 'could not write a heartbeat to the store; the next one will try again'),
    );
    this.pending.set(node, done.finally(() => this.pending.delete(node)));
  }

  /** How many nodes' writes are running. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once every write started so far has ended. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending.values());
  }
}
