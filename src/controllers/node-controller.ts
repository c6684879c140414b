// The node controller: a node whose agent stops heartbeating for the grace period is marked not
// ready (condition Ready=False, reason NodeLost) and every unfinished instance bound to it becomes
// Lost, which the service controller then replaces elsewhere. Turning a node ready again is the
// API's job on the next heartbeat; this controller only records that it happened.
//
// A heartbeat renews the node's lease (node-leases.ts, in memory) and reaches the store only now
// and then, so the last heartbeat is the later of the lease and the stored `lastHeartbeat`
// (without a lease table, as in tests and other composition roots, the stored one alone). Silence
// is measured from the later of that and this controller's start: after a server restart the
// leases are gone and every stored heartbeat is old, but no agent has had a chance to reach the
// new server yet, so nodes get a full grace period before they count as lost.
//
// Many nodes can fall silent in one pass (a rack loses power): nodes and their instances are
// written in transactions of up to 1,000 updates, and each node gets one NodeNotReady and one
// InstanceLost event ("12 instances lost: ..."), not one event per instance.
//
// A deleted Node has no heartbeat to miss: its unfinished instances are marked Lost too ("node X
// was deleted"), found by a scan of the instances whenever a node disappears, on the first pass
// (deletions while the server was down), after a pass with conflicts, and every orphanScanMs.
import type { Logger } from 'pino';
import { getCondition, setCondition, type GantryNode, type Instance } from '../core/index.js';
import type { Store } from '../store/store.js';
import { updateInChunks } from './chunked-updates.js';
import { EventRecorder, type EventInput } from './event-recorder.js';
import { count, listSome } from './event-text.js';
import { groupBy } from './group-by.js';
import { isFinished } from './instance-phase.js';
import type { NodeLeases } from './node-leases.js';

export interface NodeControllerOptions {
  store: Store;
  logger: Logger;
  nodeGracePeriodMs: number;
  now?: () => number;
  /** Shared with the API in the server; a private one otherwise. */
  events?: EventRecorder | undefined;
  /** Heartbeat leases the API renews; absent: the stored `status.lastHeartbeat` alone. */
  leases?: NodeLeases | undefined;
  /** Safety net: look for instances bound to missing nodes at least this often (default 60 s). */
  orphanScanMs?: number;
}

/** Events recorded per recordAll call (one store txn). */
const EVENTS_PER_TXN = 1000;

export class NodeController {
  /** Readiness seen on the previous pass, to notice a not-ready node coming back. */
  private readonly lastReady = new Map<string, boolean>();
  /** Not-ready nodes whose instances are all marked Lost: no need to scan instances again. */
  private readonly lostDone = new Set<string>();
  private readonly now: () => number;
  private readonly events: EventRecorder;
  /** Our own clock at construction: no node counts as silent before a grace period from here. */
  private readonly startedAt: number;
  /** Node names of the previous pass; undefined before the first. */
  private previousNodes: Set<string> | undefined;
  /** When instances were last scanned for deleted nodes; NaN: scan on the next pass. */
  private lastOrphanScan = Number.NaN;

  constructor(private readonly opts: NodeControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events ?? new EventRecorder(opts.store);
    this.startedAt = this.now();
  }

  /** One pass over every node; run it every second. */
  async check(): Promise<void> {
    const { store } = this.opts;
    const nodes = (await store.list('Node')).items;
    const pending: EventInput[] = [];
    const seen = new Set<string>();
    const silent: GantryNode[] = [];
    const unfinished: GantryNode[] = [];
    for (const node of nodes) {
      const name = node.metadata.name;
      seen.add(name);
      const ready = node.status?.ready === true;
      if (ready && this.lastReady.get(name) === false) pending.push(nodeEvent(name, 'Normal', 'NodeReady', `node ${name} is sending heartbeats again`));
      if (ready) this.lostDone.delete(name);
      if (ready && this.isSilent(node)) {
        silent.push(node);
        continue;
      }
      // A retry after conflicts, or after a crash between marking the node and its instances.
      if (!ready && lostReason(node) && !this.lostDone.has(name)) unfinished.push(node);
      this.lastReady.set(name, ready);
    }
    for (const name of this.lastReady.keys()) {
      if (seen.has(name)) continue;
      this.lastReady.delete(name);
      this.opts.leases?.forget(name);
    }
    for (const name of this.lostDone) if (!seen.has(name)) this.lostDone.delete(name);

    let instances: Instance[] | undefined;
    try {
      const marked = silent.length > 0 ? await this.markNotReady(silent, pending) : [];
      const toLose = [...marked, ...unfinished];
      if (toLose.length > 0) {
        instances = (await store.list('Instance')).items;
        await this.markLost(toLose, instances, pending);
      }
      const nodeGone = this.previousNodes === undefined || [...this.previousNodes].some((n) => !seen.has(n));
      this.previousNodes = seen;
      const now = this.now();
      if (nodeGone || !(now - this.lastOrphanScan < (this.opts.orphanScanMs ?? 60_000))) {
        instances ??= (await store.list('Instance')).items;
        const complete = await this.markOrphansLost(seen, instances, pending);
        this.lastOrphanScan = complete ? now : Number.NaN;
      }
    } finally {
      await this.record(pending);
    }
  }

  /** The later of the lease and the stored heartbeat (node creation when it never beat), in ms. */
  private lastHeartbeat(node: GantryNode): number {
    const stored = Date.parse(node.status?.lastHeartbeat ?? node.metadata.createdAt);
    const lease = this.opts.leases?.lastRenewed(node.metadata.name);
    if (lease === undefined) return stored;
    return Number.isFinite(stored) ? Math.max(stored, lease) : lease;
  }

  private isSilent(node: GantryNode): boolean {
    const last = this.lastHeartbeat(node);
    if (!Number.isFinite(last)) return false;
    return this.now() - Math.max(last, this.startedAt) > this.opts.nodeGracePeriodMs;
  }

  /**
   * Marks silent nodes not ready, stamping the last heartbeat we know of (the lease may be newer
   * than the stored one). Returns the nodes this pass turned; a node that changed meanwhile (a
   * heartbeat landed, CAS lost) is alive as far as we know and is looked at again next pass.
   */
  private async markNotReady(silent: readonly GantryNode[], pending: EventInput[]): Promise<GantryNode[]> {
    const at = new Date(this.now()).toISOString();
    const updates: GantryNode[] = [];
    for (const node of silent) {
      const status = node.status;
      if (!status) continue;
      const last = this.lastHeartbeat(node);
      const lastHeartbeat = new Date(last).toISOString();
      const message = `node ${node.metadata.name} stopped sending heartbeats at ${lastHeartbeat}`;
      const conditions = setCondition(status.conditions, { type: 'Ready', status: 'False', reason: 'NodeLost', message }, at);
      // The lease knew of later heartbeats than the store: `get nodes` should show the last one.
      const newer = this.opts.leases?.lastRenewed(node.metadata.name) === last && status.lastHeartbeat !== lastHeartbeat;
      updates.push({ ...node, status: { ...status, ready: false, ...(newer ? { lastHeartbeat } : {}), conditions } });
    }
    const { written } = await updateInChunks(this.opts.store, updates);
    for (const node of written) {
      const name = node.metadata.name;
      this.lastReady.set(name, false);
      this.opts.logger.warn({ node: name, lastHeartbeat: node.status?.lastHeartbeat, revision: node.metadata.revision }, 'node stopped heartbeating; marked not ready');
      pending.push(nodeEvent(name, 'Warning', 'NodeNotReady', readyMessage(node)));
    }
    return written;
  }

  /** Marks the unfinished instances of not-ready nodes Lost; a node whose instances all are is done. */
  private async markLost(nodes: readonly GantryNode[], instances: readonly Instance[], pending: EventInput[]): Promise<void> {
    const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
    const victims = instances.filter((i) => i.spec.node !== undefined && byName.has(i.spec.node) && !isFinished(i));
    const incomplete = await this.loseInstances(victims, (node) => ({ reason: 'NodeLost', message: readyMessage(byName.get(node)!) }), pending);
    for (const name of byName.keys()) if (!incomplete.has(name)) this.lostDone.add(name);
  }

  /** Unfinished instances bound to a node that no longer exists become Lost; true when all are. */
  private async markOrphansLost(nodes: ReadonlySet<string>, instances: readonly Instance[], pending: EventInput[]): Promise<boolean> {
    const orphans = instances.filter((i) => i.spec.node !== undefined && !nodes.has(i.spec.node) && !isFinished(i));
    if (orphans.length === 0) return true;
    const incomplete = await this.loseInstances(orphans, (node) => ({ reason: 'NodeDeleted', message: `node ${node} was deleted` }), pending);
    return incomplete.size === 0;
  }

  /**
   * Writes phase Lost on `victims` in chunked transactions and queues one InstanceLost event per
   * node. Returns the nodes with an instance that changed meanwhile (the next pass looks again).
   */
  private async loseInstances(victims: readonly Instance[], why: (node: string) => { reason: string; message: string }, pending: EventInput[]): Promise<Set<string>> {
    const updates = victims.map((inst): Instance => {
      const { reason, message } = why(inst.spec.node!);
      const status = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
      return { ...inst, status: { ...status, phase: 'Lost', ready: false, reason, message } };
    });
    const { written, changed } = await updateInChunks(this.opts.store, updates);
    for (const [node, lost] of groupBy(written, (i) => i.spec.node!)) {
      const names = lost.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
      const { reason, message } = why(node);
      this.opts.logger.warn({ node, reason, lost: lost.length, instances: listSome(names) }, 'instances lost with their node');
      pending.push(nodeEvent(node, 'Warning', 'InstanceLost', `${count(lost.length, 'instance')} lost (${message}): ${listSome(names)}`));
    }
    return new Set(changed.map((i) => i.spec.node!));
  }

  /** Records the pass's events, a transaction per thousand. */
  private async record(pending: readonly EventInput[]): Promise<void> {
    const at = new Date(this.now());
    for (let start = 0; start < pending.length; start += EVENTS_PER_TXN) {
      await this.events.recordAll(pending.slice(start, start + EVENTS_PER_TXN), 'node-controller', at);
    }
  }
}

function nodeEvent(name: string, type: 'Normal' | 'Warning', reason: string, message: string): EventInput {
  return { involved: { kind: 'Node', name }, type, reason, message };
}

/** What the node's Ready=False condition says (written when it was marked), for its instances. */
function readyMessage(node: GantryNode): string {
  return getCondition(node.status?.conditions, 'Ready')?.message ?? `node ${node.metadata.name} stopped sending heartbeats at ${node.status?.lastHeartbeat ?? node.metadata.createdAt}`;
}

function lostReason(node: GantryNode): boolean {
  return node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'NodeLost') === true;
}
