// The node controller: a node whose agent stops heartbeating for the grace period is marked not
// ready (condition Ready=False, reason NodeLost) and every unfinished instance bound to it becomes
// Lost, which the service controller then replaces elsewhere. Turning a node ready again is the
// API's job on the next heartbeat; this controller only records that it happened.
//
// Silence is measured from the later of the last heartbeat and this controller's start: after a
// server restart (or a long pause) every stored heartbeat is old, but no agent has had a chance to
// reach the new server yet, so nodes get a full grace period before they count as lost.
//
// A deleted Node has no heartbeat to miss: its unfinished instances are marked Lost too ("node X
// was deleted"), found by a scan of the instances whenever a node disappears, on the first pass
// (deletions while the server was down), after a pass with conflicts, and every orphanScanMs.
import type { Logger } from 'pino';
import { isAppError, setCondition, type GantryNode, type Instance } from '../core/index.js';
import type { Store } from '../store/store.js';
import { EventRecorder } from './event-recorder.js';
import { isFinished } from './instance-phase.js';

export interface NodeControllerOptions {
  store: Store;
  logger: Logger;
  nodeGracePeriodMs: number;
  now?: () => number;
  /** Shared with the API in the server; a private one otherwise. */
  events?: EventRecorder | undefined;
  /** Safety net: look for instances bound to missing nodes at least this often (default 60 s). */
  orphanScanMs?: number;
}

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
    let instances: Instance[] | undefined;
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name;
      seen.add(name);
      const ready = node.status?.ready === true;
      if (ready && this.lastReady.get(name) === false) {
        await this.event(node, 'Normal', 'NodeReady', `node ${name} is sending heartbeats again`);
      }
      if (ready) this.lostDone.delete(name);
      if (ready && this.isSilent(node)) {
        // A lost CAS means a heartbeat landed: the node lives, its instances are not lost.
        if (!(await this.markNotReady(node))) continue;
        this.lastReady.set(name, false);
        instances ??= (await store.list('Instance')).items;
        if (await this.markLost(node, instances)) this.lostDone.add(name);
        continue;
      }
      if (!ready && lostReason(node) && !this.lostDone.has(name)) {
        // A retry after conflicts, or after a crash between marking the node and its instances.
        instances ??= (await store.list('Instance')).items;
        if (await this.markLost(node, instances)) this.lostDone.add(name);
      }
      this.lastReady.set(name, ready);
    }
    for (const name of this.lastReady.keys()) if (!seen.has(name)) this.lastReady.delete(name);
    for (const name of this.lostDone) if (!seen.has(name)) this.lostDone.delete(name);

    const nodeGone = this.previousNodes === undefined || [...this.previousNodes].some((n) => !seen.has(n));
    this.previousNodes = seen;
    const now = this.now();
    if (nodeGone || !(now - this.lastOrphanScan < (this.opts.orphanScanMs ?? 60_000))) {
      instances ??= (await store.list('Instance')).items;
      const complete = await this.markOrphansLost(seen, instances);
      this.lastOrphanScan = complete ? now : Number.NaN;
    }
  }

  private isSilent(node: GantryNode): boolean {
    const last = Date.parse(node.status?.lastHeartbeat ?? node.metadata.createdAt);
    if (!Number.isFinite(last)) return false;
    return this.now() - Math.max(last, this.startedAt) > this.opts.nodeGracePeriodMs;
  }

  /** Unfinished instances bound to a node that no longer exists become Lost; true when all are. */
  private async markOrphansLost(nodes: ReadonlySet<string>, instances: readonly Instance[]): Promise<boolean> {
    let complete = true;
    for (const inst of instances) {
      const node = inst.spec.node;
      if (node === undefined || nodes.has(node) || isFinished(inst)) continue;
      if (!(await this.markInstanceLost(inst, node, 'NodeDeleted', `node ${node} was deleted`))) complete = false;
    }
    return complete;
  }

  /** True when this pass turned the node not ready. */
  private async markNotReady(node: GantryNode): Promise<boolean> {
    const name = node.metadata.name;
    const message = silenceMessage(node);
    const status = node.status;
    if (!status) return false;
    try {
      await this.opts.store.update<GantryNode>({
        ...node,
        status: {
          ...status,
          ready: false,
          conditions: setCondition(status.conditions, { type: 'Ready', status: 'False', reason: 'NodeLost', message }, new Date(this.now()).toISOString()),
        },
      });
    } catch (err) {
      // A heartbeat landed meanwhile (CAS lost): the node is alive; look again next pass.
      if (isAppError(err, 'CONFLICT') || isAppError(err, 'NOT_FOUND')) return false;
      throw err;
    }
    this.opts.logger.warn({ node: name, lastHeartbeat: status.lastHeartbeat }, 'node stopped heartbeating; marked not ready');
    await this.event(node, 'Warning', 'NodeNotReady', message);
    return true;
  }

  /** True when every unfinished instance of the node is now Lost. */
  private async markLost(node: GantryNode, instances: readonly Instance[]): Promise<boolean> {
    const name = node.metadata.name;
    const message = silenceMessage(node);
    let complete = true;
    for (const inst of instances) {
      if (inst.spec.node !== name || isFinished(inst)) continue;
      if (!(await this.markInstanceLost(inst, name, 'NodeLost', message))) complete = false;
    }
    return complete;
  }

  /** False when the instance changed meanwhile (CAS lost): the next pass looks again. */
  private async markInstanceLost(inst: Instance, node: string, reason: string, message: string): Promise<boolean> {
    const status = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
    try {
      await this.opts.store.update<Instance>({ ...inst, status: { ...status, phase: 'Lost', ready: false, reason, message } });
    } catch (err) {
      if (isAppError(err, 'NOT_FOUND')) return true;
      if (isAppError(err, 'CONFLICT')) return false;
      throw err;
    }
    this.opts.logger.warn({ namespace: inst.metadata.namespace, name: inst.metadata.name, node, reason }, 'instance lost with its node');
    await this.events.record(
      { kind: 'Instance', namespace: inst.metadata.namespace, name: inst.metadata.name },
      'Warning',
      'InstanceLost',
      message,
      'node-controller',
      new Date(this.now()),
    );
    return true;
  }

  private async event(node: GantryNode, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.events.record({ kind: 'Node', name: node.metadata.name }, type, reason, message, 'node-controller', new Date(this.now()));
  }
}

function silenceMessage(node: GantryNode): string {
  return `node ${node.metadata.name} stopped sending heartbeats at ${node.status?.lastHeartbeat ?? node.metadata.createdAt}`;
}

function lostReason(node: GantryNode): boolean {
  return node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'NodeLost') === true;
}
