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
// Three guards keep a sick server from evicting a healthy cluster (the failure is then ours, not the
// nodes'): when the controller's own tick runs late by more than stallThresholdMs (the event loop
// was blocked, so heartbeats could not get in either), the grace period restarts for every node,
// as after a restart. A tick that runs a little late (a busy or CPU-starved server, whose
// heartbeats wait in its sockets just as this tick waited) adds its lateness to a lag credit, and
// a node's silence is counted without the lag accrued meanwhile: at 5,000 nodes on two busy
// cores a loop running 0.5-1.5 s behind for minutes had thousands of heartbeating nodes declared
// lost, their instances replaced, and the extra work made the server later still. And when more than DISRUPTION_RATIO of the nodes (and more than
// DISRUPTION_MIN_NODES - 1) are silent at once, as Kubernetes' unhealthy-zone threshold, they are
// marked not ready (nothing is placed there) but their instances are not marked Lost: replacing
// most of the cluster at once would not help if the fault is the server or the network, and would
// overload what is left. Normal behaviour resumes once fewer are silent.
//
// Each service says how long its instances may sit on a silent node (`spec.lostAfter`, default
// 15s; job runs use the grace period): an instance is marked Lost once its node has been silent
// longer than that. A node is marked not ready at the grace period, or earlier when an instance
// on it is due earlier (nothing new should be placed on a node whose instances are being
// replaced). Services' lostAfter values are read from one list every few seconds; only a node
// silent longer than the shortest of them is looked at, and once looked at, not again before
// its next instance is due. With every service at the default, this costs nothing extra.
//
// When a lost node heartbeats again, its instances that were replaced meanwhile are resolved by
// their service's `onNodeReturn`: KeepReplacement (default) keeps the replacement; the original's
// object is gone (the service controller deletes a Lost instance when it replaces it), so the
// returning agent stops and removes its containers. KeepOriginal: the service controller kept the
// original's object (node-return.ts); it is revived and its replacement stopped. Each decision
// is an event.
//
// A deleted Node has no heartbeat to miss: its unfinished instances are marked Lost too ("node X
// was deleted"), found by a scan of the instances whenever a node disappears, on the first pass
// (deletions while the server was down), after a pass with conflicts, and every orphanScanMs.
import type { Logger } from 'pino';
import { getCondition, isFinished, setCondition, type GantryNode, type Instance } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { updateInChunks } from '../shared/chunked-updates.js';
import type { EventRecorder} from '../../runtime/event-recorder.js';
import { type EventInput } from '../../runtime/event-recorder.js';
import { count, listSome } from '../shared/event-text.js';
import { groupBy } from '../shared/group-by.js';
import { LossSettings } from './loss-settings.js';
import { heartbeatStretchMs } from '../../runtime/heartbeat-pace.js';
import type { NodeLeases } from '../../runtime/node-leases.js';
import { keepOriginals } from './node-return.js';

export interface NodeControllerOptions {
  store: Store;
  logger: Logger;
  nodeGracePeriodMs: number;
  now?: () => number;
  /** Shared with the API in the server; a private one otherwise. */
  events: EventRecorder;
  /** Heartbeat leases the API renews; absent: the stored `status.lastHeartbeat` alone. */
  leases?: NodeLeases | undefined;
  /** Safety net: look for instances bound to missing nodes at least this often (default 60 s). */
  orphanScanMs?: number;
  /**
   * Two checks this far apart (start to start) mean the server itself stalled: the grace period
   * restarts for every node. Only for callers that check on a steady tick (the controller manager
   * checks every second); absent: off.
   */
  stallThresholdMs?: number | undefined;
  /** Silent share of nodes above which their instances are left alone (default 0.55). */
  disruptionRatio?: number;
  /**
   * The steady tick's interval (the controller manager checks every second). With it, how late
   * each check starts (short of a stall) is time the server could not take heartbeats in either,
   * and is not counted as a node's silence; absent: off.
   */
  checkIntervalMs?: number | undefined;
  /**
   * A node this controller has not heard from since it started is silent only past this long
   * after the start, if longer than the grace period (default 60 s, Kubernetes'
   * --node-startup-grace-period): after a server restart every agent must first reach the new
   * server, and at 5,000 nodes that took longer than a 15 s grace period, which replaced thousands
   * of running instances. A node heard from since the start gets the grace period as usual.
   */
  startupGraceMs?: number | undefined;
  /** The heartbeat rate the API paces big clusters to (heartbeat-pace.ts); default MAX_HEARTBEATS_PER_SECOND. */
  maxHeartbeatsPerSecond?: number | undefined;
}

export const DEFAULT_STARTUP_GRACE_MS = 60_000;

/** How far back the lag credit is remembered (silences longer than this get the oldest credit). */
const LAG_HISTORY_MS = 10 * 60_000;

/** Events recorded per recordAll call (one store txn). */
const EVENTS_PER_TXN = 1000;
/** Share of silent nodes beyond which their instances are not replaced (Kubernetes: 0.55). */
export const DISRUPTION_RATIO = 0.55;
/** Fewer silent nodes than this never count as a disruption: small clusters behave normally. */
export const DISRUPTION_MIN_NODES = 3;

export class NodeController {
  /** Each service's lostAfter and onNodeReturn. */
  private readonly settings: LossSettings;
  /** Silent nodes: the silence at which their next instance becomes due (Infinity: none left). */
  private readonly nextDue = new Map<string, number>();
  /** Instances marked Lost per node while it was silent, for the node-return decisions. */
  private readonly lostOn = new Map<string, Instance[]>();
  /** Lost nodes that came back and whose onNodeReturn decisions are not all written yet. */
  private readonly returning = new Set<string>();
  /** Readiness seen on the previous pass (false: lost to silence), to notice a lost node coming back. */
  private readonly lastReady = new Map<string, boolean>();
  /** Not-ready nodes whose instances are all marked Lost: no need to scan instances again. */
  private readonly lostDone = new Set<string>();
  private readonly now: () => number;
  private readonly events: EventRecorder;
  /**
   * Our own clock at construction, or after a stall: no node counts as silent before a grace
   * period from here.
   */
  private graceFrom: number;
  /** Our own clock at construction: nodes not heard from since get the startup grace. */
  private readonly startedAt: number;
  /** When the previous check ended; undefined before the first. */
  private lastCheckAt: number | undefined;
  /** The extra silence this pass tolerates: heartbeatStretchMs of the cluster's size. */
  private paceStretchMs = 0;
  /** Sum of how late checks started (ms, stalls aside): the server's own lag so far. */
  private lagTotal = 0;
  /** lagTotal at each check's start, oldest first, for LAG_HISTORY_MS. */
  private readonly lagMarks: { at: number; total: number }[] = [];
  private lagMarksHead = 0;
  /** Not-ready nodes told that their instances are held back in the current disruption. */
  private readonly heldBack = new Set<string>();
  private disrupted = false;
  /** Node names of the previous pass; undefined before the first. */
  private previousNodes: Set<string> | undefined;
  /** When instances were last scanned for deleted nodes; NaN: scan on the next pass. */
  private lastOrphanScan = Number.NaN;

  constructor(private readonly opts: NodeControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events;
    this.graceFrom = this.now();
    this.startedAt = this.graceFrom;
    this.settings = new LossSettings(opts.store, opts.nodeGracePeriodMs);
  }

  /** One pass over every node; run it every second. */
  async check(): Promise<void> {
    this.noticeStall();
    try {
      await this.checkNodes();
    } finally {
      // The next check's lateness counts from here: a pass that waited for the store is not lag.
      this.lastCheckAt = this.now();
    }
  }

  private async checkNodes(): Promise<void> {
    const { store } = this.opts;
    const nodes = (await store.list('Node')).items;
    // Agents of a big cluster heartbeat less often (the API asks them to, by the same count of
    // Node objects): more silence is normal.
    this.paceStretchMs = this.opts.leases ? heartbeatStretchMs(nodes.length, this.opts.maxHeartbeatsPerSecond) : 0;
    await this.settings.refresh(this.now());
    const pending: EventInput[] = [];
    const seen = new Set<string>();
    const silent: GantryNode[] = [];
    const maybeEarly: GantryNode[] = [];
    const unfinished: GantryNode[] = [];
    const returned: string[] = [];
    for (const node of nodes) {
      const name = node.metadata.name;
      seen.add(name);
      const ready = node.status?.ready === true;
      if (ready && this.lastReady.get(name) === false) {
        pending.push(nodeEvent(name, 'Normal', 'NodeReady', `node ${name} is sending heartbeats again`));
        returned.push(name);
      }
      if (ready) this.lostDone.delete(name);
      const silentFor = this.silentFor(node);
      const startup = this.startupGrace(node);
      if (!(silentFor > Math.max(this.settings.shortest, startup))) this.nextDue.delete(name);
      if (ready && silentFor > Math.max(this.opts.nodeGracePeriodMs, startup)) {
        silent.push(node);
        continue;
      }
      if (ready && silentFor > Math.max(this.settings.shortest, startup)) maybeEarly.push(node);
      // A retry after conflicts, or after a crash between marking the node and its instances.
      if (!ready && lostReason(node) && !this.lostDone.has(name)) unfinished.push(node);
      // Only a node lost to silence "comes back": a new node turning ready on its first heartbeat does not.
      this.lastReady.set(name, ready || !lostReason(node));
    }
    for (const name of this.lastReady.keys()) {
      if (seen.has(name)) continue;
      this.lastReady.delete(name);
      this.opts.leases?.forget(name);
    }
    for (const name of this.lostDone) if (!seen.has(name)) this.lostDone.delete(name);
    for (const name of this.nextDue.keys()) if (!seen.has(name)) this.nextDue.delete(name);
    for (const name of this.lostOn.keys()) if (!seen.has(name)) this.lostOn.delete(name);
    for (const name of returned) this.returning.add(name);
    for (const name of this.returning) {
      if (!seen.has(name)) this.returning.delete(name);
      else if (await this.resolveReturn(name, pending)) this.returning.delete(name);
    }
    // Silent for less than the grace period, but with an instance whose lostAfter has passed.
    silent.push(...(await this.dueEarly(maybeEarly)));

    // Silent now: about to be marked, or marked before and still not heartbeating.
    const silentNow = silent.length + nodes.filter((n) => n.status?.ready !== true && lostReason(n)).length;
    const holdBack = this.assessDisruption(silentNow, nodes.length);
    try {
      const marked = silent.length > 0 ? await this.markNotReady(silent, pending) : [];
      const toLose = [...marked, ...unfinished];
      if (holdBack) this.holdBack(toLose, silentNow, nodes.length, pending);
      else if (toLose.length > 0) await this.markLost(toLose, pending);
      const nodeGone = this.previousNodes === undefined || [...this.previousNodes].some((n) => !seen.has(n));
      this.previousNodes = seen;
      const now = this.now();
      if (nodeGone || !(now - this.lastOrphanScan < (this.opts.orphanScanMs ?? 60_000))) {
        const instances = (await store.list('Instance')).items;
        const complete = await this.markOrphansLost(seen, instances, pending);
        this.lastOrphanScan = complete ? now : Number.NaN;
      }
    } finally {
      await this.record(pending);
    }
  }

  /**
   * A check that starts long after the previous one ended (the manager sleeps the interval in
   * between): we were stalled, not the nodes. A check that starts a little late (a busy or CPU-starved server: heartbeats wait in its sockets as
   * this tick waited) adds its lateness to the lag credit, which silentFor takes off each node's
   * silence: a grace period counts the time the server was able to listen, not the wall clock.
   */
  private noticeStall(): void {
    const now = this.now();
    const threshold = this.opts.stallThresholdMs;
    const gap = this.lastCheckAt === undefined ? undefined : now - this.lastCheckAt;
    if (gap !== undefined && threshold !== undefined && gap > threshold) {
      this.opts.logger.warn({ gapMs: gap, thresholdMs: threshold }, 'node check ran late (the server stalled); restarting every node\'s heartbeat grace period');
      this.graceFrom = now;
    } else if (gap !== undefined && this.opts.checkIntervalMs !== undefined) {
      this.lagTotal += Math.max(0, gap - this.opts.checkIntervalMs);
    }
    if (this.opts.checkIntervalMs === undefined) return;
    this.lagMarks.push({ at: now, total: this.lagTotal });
    while (this.lagMarks.length - this.lagMarksHead > 1 && this.lagMarks[this.lagMarksHead]!.at < now - LAG_HISTORY_MS) this.lagMarksHead++;
    if (this.lagMarksHead > 1024 && this.lagMarksHead * 2 > this.lagMarks.length) {
      this.lagMarks.splice(0, this.lagMarksHead);
      this.lagMarksHead = 0;
    }
  }

  /** The server's lag (ms) accrued since `t`: lagTotal now minus at the first check at or after t. */
  private lagSince(t: number): number {
    let lo = this.lagMarksHead;
    let hi = this.lagMarks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.lagMarks[mid]!.at < t) lo = mid + 1;
      else hi = mid;
    }
    const mark = this.lagMarks[lo];
    return mark === undefined ? 0 : this.lagTotal - mark.total;
  }

  /** True while too many nodes are silent at once to replace their instances; logs the changes. */
  private assessDisruption(silent: number, total: number): boolean {
    const disrupted = silent >= DISRUPTION_MIN_NODES && silent > (this.opts.disruptionRatio ?? DISRUPTION_RATIO) * total;
    if (disrupted && !this.disrupted) {
      this.opts.logger.warn({ silent, nodes: total }, 'most nodes silent at once: marking them not ready but not replacing their instances; likely a server or network problem');
    } else if (!disrupted && this.disrupted) {
      this.opts.logger.info({ silent, nodes: total }, 'fewer nodes silent: replacing the instances of silent nodes again');
      this.heldBack.clear();
    }
    this.disrupted = disrupted;
    return disrupted;
  }

  /** In a disruption: one Warning per node whose instances are left alone, once per disruption. */
  private holdBack(nodes: readonly GantryNode[], silent: number, total: number, pending: EventInput[]): void {
    for (const node of nodes) {
      const name = node.metadata.name;
      if (this.heldBack.has(name)) continue;
      this.heldBack.add(name);
      pending.push(nodeEvent(name, 'Warning', 'NodesSilentAtOnce', `${silent} of ${total} nodes silent at once: not replacing their instances; likely a server or network problem`));
    }
  }

  /**
   * The startup grace for a node not heard from since this controller started, while it lasts
   * (a silence counted from the start is below it until then); 0 for a node heard from since.
   */
  private startupGrace(node: GantryNode): number {
    const grace = this.opts.startupGraceMs ?? DEFAULT_STARTUP_GRACE_MS;
    if (this.now() - this.startedAt > grace) return 0;
    return this.lastHeartbeat(node) >= this.startedAt ? 0 : grace;
  }

  /** The later of the lease and the stored heartbeat (node creation when it never beat), in ms. */
  private lastHeartbeat(node: GantryNode): number {
    const stored = Date.parse(node.status?.lastHeartbeat ?? node.metadata.createdAt);
    const lease = this.opts.leases?.lastRenewed(node.metadata.name);
    if (lease === undefined) return stored;
    return Number.isFinite(stored) ? Math.max(stored, lease) : lease;
  }

  /**
   * How long the node has been silent, counted from our start or a stall at the earliest, less
   * the server's own lag meanwhile and the slower heartbeats of a big cluster (heartbeat-pace.ts,
   * so the grace period and every lostAfter stretch alike); NaN if unknown.
   */
  private silentFor(node: GantryNode): number {
    const last = this.lastHeartbeat(node);
    if (!Number.isFinite(last)) return Number.NaN;
    const from = Math.max(last, this.graceFrom);
    return this.now() - from - this.lagSince(from) - this.paceStretchMs;
  }

  /**
   * A lost node is back: its instances marked Lost meanwhile were (or are about to be) replaced.
   * KeepReplacement: the originals' objects are gone, so the returning agent stops their
   * containers. KeepOriginal: the originals were kept (node-return.ts); each is revived and its
   * replacement stopped, in one txn per pair. Returns false when a write lost a race (the
   * next pass tries again).
   */
  private async resolveReturn(node: string, pending: EventInput[]): Promise<boolean> {
    const ref = (i: Instance) => `${i.metadata.namespace}/${i.metadata.name}`;
    const lost = this.lostOn.get(node) ?? [];
    this.lostOn.delete(node);
    const keepReplacement = lost.filter((i) => this.settings.onNodeReturnOf(i) !== 'KeepOriginal').map(ref);
    if (keepReplacement.length > 0) {
      const what = `kept the replacements of ${count(keepReplacement.length, 'instance')} lost there and stopped the originals`;
      pending.push(nodeEvent(node, 'Normal', 'NodeReturned', `node ${node} is back; ${what} (onNodeReturn KeepReplacement): ${listSome(keepReplacement)}`));
      this.opts.logger.info({ node, keptReplacements: keepReplacement.length }, 'lost node returned; replacements kept');
    }
    if (!this.settings.anyKeepOriginal) return true;
    const { kept, complete } = await keepOriginals(this.opts.store, node, (i) => this.settings.onNodeReturnOf(i), this.now());
    if (kept.length > 0) {
      pending.push(nodeEvent(node, 'Normal', 'NodeReturned', `node ${node} is back; kept the originals of ${count(kept.length, 'instance')} lost there and stopped their replacements (onNodeReturn KeepOriginal): ${listSome(kept)}`));
      this.opts.logger.info({ node, kept: kept.length }, 'lost node returned; originals kept');
    }
    return complete;
  }

  /** Ready nodes silent past the lostAfter of an instance on them (each looked at once until that is due). */
  private async dueEarly(nodes: readonly GantryNode[]): Promise<GantryNode[]> {
    const due: GantryNode[] = [];
    for (const node of nodes) {
      const name = node.metadata.name;
      const silentFor = this.silentFor(node);
      const known = this.nextDue.get(name);
      if (known !== undefined && !(silentFor > known)) continue;
      const { items } = await this.opts.store.list('Instance', { field: { path: 'spec.node', value: name } });
      let next = Infinity;
      for (const i of items) if (!isFinished(i)) next = Math.min(next, this.settings.lostAfterOf(i));
      this.nextDue.set(name, next);
      if (silentFor > next) due.push(node);
    }
    return due;
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

  /**
   * Marks Lost the unfinished instances of not-ready nodes whose lostAfter has passed; a node
   * whose instances all are is done. The others are looked at again when the next one is due.
   */
  private async markLost(nodes: readonly GantryNode[], pending: EventInput[]): Promise<void> {
    const byName = new Map<string, GantryNode>();
    // Each node's instances from the store's spec.node index: cost follows the lost nodes, not the cluster.
    const victims: Instance[] = [];
    const waiting = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name;
      const silentFor = this.silentFor(node);
      const known = this.nextDue.get(name);
      if (known !== undefined && !(silentFor > known)) {
        waiting.add(name);
        continue;
      }
      byName.set(name, node);
      const { items } = await this.opts.store.list('Instance', { field: { path: 'spec.node', value: name } });
      let next = Infinity;
      for (const i of items) {
        if (isFinished(i)) continue;
        const lostAfter = this.settings.lostAfterOf(i);
        // A node marked not ready whose silence is unknown (no heartbeat ever): as before, all go.
        if (!(silentFor <= lostAfter)) victims.push(i);
        else next = Math.min(next, lostAfter);
      }
      this.nextDue.set(name, next);
      if (next !== Infinity) waiting.add(name);
    }
    const incomplete = await this.loseInstances(victims, (node) => ({ reason: 'NodeLost', message: readyMessage(byName.get(node)!) }), pending);
    for (const name of byName.keys()) if (!incomplete.has(name) && !waiting.has(name)) this.lostDone.add(name);
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
      // updatedAt: when it was lost, which onNodeReturn KeepOriginal counts from (node-return.ts).
      return { ...inst, status: { ...status, phase: 'Lost', ready: false, reason, message, updatedAt: new Date(this.now()).toISOString() } };
    });
    const { written, changed } = await updateInChunks(this.opts.store, updates);
    for (const [node, lost] of groupBy(written, (i) => i.spec.node!)) {
      const remembered = this.lostOn.get(node) ?? [];
      this.lostOn.set(node, [...remembered, ...lost.filter((i) => i.spec.ownerKind !== 'Job')]);
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
