// The scheduling controller: one key for the whole cluster, because placement is a batch problem
// (each decision changes what fits next). A pass takes every unbound Pending instance, in chunks
// of PLAN_CHUNK: each chunk is planned by the pure scheduler against the node snapshots, each
// placement re-checked against the state at commit time (optimistic concurrency: the plan carries
// its snapshot revision), and the survivors bound in one store txn; then the event loop gets a
// turn before the next chunk. What does not fit gets a reason, and one event per new reason.
//
// The state (nodes, instances, per-node usage) is kept across passes and brought forward from the
// store's change history (cluster-state.ts), so a pass costs what changed plus what it places;
// every rebuildIntervalMs it is read afresh as a safety net.
import type { Logger } from 'pino';
import { isAppError, isUnboundPending, type Instance, type InstanceStatus } from '../../core/index.js';
import { fits, placementRequestFor, schedule } from '../../scheduler/index.js';
import type { NodeSnapshot, PlacementRequest } from '../../scheduler/index.js';
import type { Store, TxnOp } from '../../store/store.js';
import { ClusterState } from './cluster-state.js';
import type { ServerMetrics } from '../../runtime/metrics.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { SchedulingReport } from './scheduling-report.js';
import type { HandlerResult } from '../../runtime/work-queue.js';

export const SCHEDULING_KEY = 'scheduling';

export interface SchedulingControllerOptions {
  store: Store;
  logger: Logger;
  /** Seed of the first plan; each plan uses the next number, so a run is reproducible. */
  seed?: number;
  /** Plans tried per chunk when placements go stale between plan and commit. */
  maxAttempts?: number;
  /** While something stays unplaced, try again this often (node events also retry). */
  retryIntervalMs?: number;
  /** Read the whole cluster afresh at most this long after the last full read (default 60 s). */
  rebuildIntervalMs?: number;
  now?: () => Date;
  /** Shared with the API in the server; a private one otherwise. */
  events: EventRecorder;
  /** Counts placements (gantry_scheduler_placements_total). */
  metrics?: ServerMetrics | undefined;
  /** Where runAsUser auto uids come from (server --auto-uid-range); default 100000-165535. */
  autoUidRange?: UidRange | undefined;
}

/** A range of uids, both ends included. */
export interface UidRange {
  first: number;
  last: number;
}

export const DEFAULT_AUTO_UID_RANGE: UidRange = { first: 100_000, last: 165_535 };

/**
 * Binds per txn; between chunks the event loop serves others (heartbeats, API reads). 250, not
 * 1,000: on 2 busy cores a 1,000-instance chunk (plan, re-check, txn) held the loop for ~100 ms.
 */
export const BIND_CHUNK = 250;
/** Pending instances planned at once: one bind txn's worth, so a chunk is plan, check, one txn. */
export const PLAN_CHUNK = BIND_CHUNK;

interface ChunkOutcome {
  placed: Instance[];
  unplaced: Map<string, string>;
  leftover: boolean;
}

export class SchedulingController {
  private pass = 0;
  private readonly seed: number;
  private readonly report: SchedulingReport;
  private state: ClusterState | undefined;
  private lastFullRead = Number.NEGATIVE_INFINITY;
  /** The safety net's full read, running beside the passes; the next pass or catch-up adopts it. */
  private rebuilding: Promise<void> | undefined;
  private rebuilt: ClusterState | undefined;

  constructor(private readonly opts: SchedulingControllerOptions) {
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    const events = opts.events;
    this.report = new SchedulingReport({ store: opts.store, logger: opts.logger, events, now: opts.now, metrics: opts.metrics });
  }

  async reconcile(): Promise<HandlerResult> {
    const { logger } = this.opts;
    const start = performance.now();
    const ids = (await this.refresh()).pendingIds();
    const refreshMs = Math.round(performance.now() - start);
    const placed: Instance[] = [];
    const unplaced = new Map<string, string>();
    let leftover = false;
    for (let start = 0; start < ids.length; start += PLAN_CHUNK) {
      if (start > 0) await new Promise((r) => setImmediate(r));
      const out = await this.placeChunk(ids.slice(start, start + PLAN_CHUNK));
      for (const inst of out.placed) placed.push(inst);
      for (const [id, reason] of out.unplaced) unplaced.set(id, reason);
      leftover ||= out.leftover;
    }
    // pending: what the pass took on; refreshMs: bringing the state forward first; passMs: the whole pass.
    if (placed.length > 0) logger.info({ bound: placed.length, unplaced: unplaced.size, pending: ids.length, refreshMs, passMs: Math.round(performance.now() - start), revision: this.state?.revision }, 'scheduled instances');
    await this.report.placements(placed);
    await this.report.failures(unplaced);
    return leftover ? { requeueAfterMs: this.opts.retryIntervalMs ?? 10_000 } : undefined;
  }

  /** Brings the kept state forward between passes (cheap: only what changed); no-op before the first pass. */
  async keepUp(): Promise<void> {
    if (!this.state) return;
    this.rebuildWhenDue();
    await this.catchUp();
  }

  /** The state at the current revision: brought forward (the first pass reads it whole). */
  private async refresh(): Promise<ClusterState> {
    if (!this.state) {
      this.state = await ClusterState.read(this.opts.store);
      this.lastFullRead = this.opts.now?.().getTime() ?? Date.now();
    } else this.rebuildWhenDue();
    return this.catchUp();
  }

  /**
   * The safety net under the incremental state: every rebuildIntervalMs the whole cluster is read
   * afresh, beside the passes, and the first pass or catch-up after it is done adopts it (brought
   * forward from its revision like any state). Not inside a pass: at 100,000 instances a full read
   * that yields to a busy loop took ~9 s, and a pass that was due for it while 250 lost nodes'
   * instances waited placed nothing meanwhile.
   */
  private rebuildWhenDue(): void {
    if (this.rebuilt) {
      this.state = this.rebuilt;
      this.rebuilt = undefined;
    }
    const now = this.opts.now?.().getTime() ?? Date.now();
    if (this.rebuilding || now - this.lastFullRead < (this.opts.rebuildIntervalMs ?? 60_000)) return;
    this.lastFullRead = now;
    const { store, logger } = this.opts;
    // Brought forward here too, so the state adopted is close to current (and not past the history).
    const start = performance.now();
    this.rebuilding = ClusterState.read(store)
      .then((fresh) => fresh.catchUp(store))
      .then(
        (fresh) => {
          this.rebuilt = fresh;
          logger.debug({ revision: fresh.revision, ms: Math.round(performance.now() - start) }, 'scheduler state read afresh (the periodic safety net)');
        },
        (err: unknown) => {
          // Try again at the next pass or catch-up, not a whole interval later.
          this.lastFullRead = Number.NEGATIVE_INFINITY;
          if (!isAppError(err, 'UNAVAILABLE')) logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading the whole cluster afresh failed; keeping the incremental state');
        },
      )
      .finally(() => (this.rebuilding = undefined));
  }

  private async catchUp(): Promise<ClusterState> {
    const start = performance.now();
    const held = this.state ?? (await ClusterState.read(this.opts.store));
    const state = await held.catchUp(this.opts.store);
    // A state that could not be brought forward (its history gone, or the replay took too long)
    // is read whole instead: say so, it is the slow path.
    if (state !== held) this.opts.logger.info({ revision: state.revision, fromRevision: held.revision, ms: Math.round(performance.now() - start) }, 'scheduler state read afresh: the change history no longer reached it');
    this.state = state;
    return state;
  }

  /** Plans, re-checks and binds the instances `ids` that are still unbound and Pending. */
  private async placeChunk(ids: readonly string[]): Promise<ChunkOutcome> {
    const { logger } = this.opts;
    const maxAttempts = this.opts.maxAttempts ?? 3;
    const out: ChunkOutcome = { placed: [], unplaced: new Map(), leftover: false };
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      // Brings in the previous chunk's binds (and everyone else's writes) before planning.
      let state = await this.catchUp();
      const pending: Instance[] = [];
      for (const id of ids) {
        const inst = state.instance(id);
        if (inst && isUnboundPending(inst)) pending.push(inst);
      }
      out.leftover = pending.length > 0;
      if (pending.length === 0) break; // an earlier attempt may have placed some: report them
      const plan = schedule(state.snapshots(), pending.map(placementRequestFor), { seed: this.seed + this.pass++ }, state.revision);

      // The state moved since the snapshot: judge each placement against the state now.
      state = await this.catchUp();
      const check = new CommitCheck(state, this.opts.autoUidRange ?? DEFAULT_AUTO_UID_RANGE);
      const binds: Instance[] = [];
      const noUid = new Map<string, string>();
      let stale = 0;
      for (const p of plan.placements) {
        const inst = state.instance(p.id);
        if (!inst || !isUnboundPending(inst)) continue; // deleted or bound meanwhile: nothing to do
        const reason = check.place(p.node, placementRequestFor(inst));
        if (reason !== undefined) {
          stale++;
          continue;
        }
        let autoUid: number | undefined;
        if (needsAutoUid(inst)) {
          autoUid = check.pickUid(p.node);
          if (autoUid === undefined) {
            noUid.set(p.id, `no free uid on node ${p.node} in the auto uid range ${check.range.first}-${check.range.last} (server --auto-uid-range)`);
            continue;
          }
        }
        binds.push(bindTo(inst, p.node, autoUid));
      }
      out.unplaced = new Map([...plan.failures.map((f) => [f.id, f.reason] as const), ...noUid]);
      const { bound, failed } = await this.bindInChunks(binds);
      for (const inst of bound) out.placed.push(inst);
      stale += failed;
      out.leftover = out.unplaced.size > 0 || stale > 0;
      if (stale === 0) break;
      logger.debug({ attempt, stale, revision: plan.revision }, 'placements went stale; planning again');
    }
    return out;
  }

  /** Binds in txns of BIND_CHUNK; a chunk that lost a CAS waits for the next attempt as a whole. */
  private async bindInChunks(binds: readonly Instance[]): Promise<{ bound: Instance[]; failed: number }> {
    const bound: Instance[] = [];
    let failed = 0;
    for (let start = 0; start < binds.length; start += BIND_CHUNK) {
      if (start > 0) await new Promise((r) => setImmediate(r));
      const chunk = binds.slice(start, start + BIND_CHUNK);
      const ops = chunk.map((object): TxnOp => ({ op: 'update', object }));
      const store = this.opts.store;
      try {
        // The first chunk follows the commit check in the same tick: on SQLite it commits now,
        // not behind writes waiting for the next turn (a cordon, a node going not ready), so what
        // the check saw still holds. Later chunks come a turn later; their CAS guards instances only.
        await (start === 0 && store.txnNow ? store.txnNow(ops) : store.txn(ops));
        for (const inst of chunk) bound.push(inst);
      } catch (err) {
        // One instance changed under us (CAS): the chunk waits for the next attempt.
        if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
        failed += chunk.length;
      }
    }
    return { bound, failed };
  }
}

/**
 * What the commit check charges: resources and host ports, which decide whether a placement still
 * fits. Service counts only rank candidates, so they are neither copied nor charged here.
 */
interface ChargedNode extends NodeSnapshot {
  used: { cpu: number; memory: number; cores?: number | undefined };
  /** The node's own copy of hostPorts, made when a placement first takes a port. */
  ownPorts?: Set<string> | undefined;
}

/** Node snapshots at commit time, charged with each placement accepted so far (own copies: the state's stay as they are). Exported for its tests. */
export class CommitCheck {
  private readonly charged = new Map<string, ChargedNode>();
  /** uids handed out by this check, per node (not in the state yet). */
  private readonly uids = new Map<string, Set<number>>();

  constructor(
    private readonly state: ClusterState,
    readonly range: UidRange,
  ) {}

  /** The lowest uid of the range no instance on `node` holds; undefined when all are taken. */
  pickUid(node: string): number | undefined {
    let mine = this.uids.get(node);
    if (!mine) {
      mine = new Set();
      this.uids.set(node, mine);
    }
    for (let uid = this.range.first; uid <= this.range.last; uid++) {
      if (mine.has(uid) || this.state.uidTaken(node, uid)) continue;
      mine.add(uid);
      return uid;
    }
    return undefined;
  }

  /** undefined and charges the node when `req` still fits there; else the reason. */
  place(nodeName: string, req: PlacementRequest): string | undefined {
    const node = this.charged.get(nodeName) ?? this.state.snapshot(nodeName);
    if (!node) return `node ${nodeName} is gone`;
    const reason = fits(node, req);
    if (reason !== undefined) return reason;
    const own = this.own(node);
    own.used.cpu += req.resources.cpu;
    own.used.memory += req.resources.memory;
    if (req.resources.cores) own.used.cores = (own.used.cores ?? 0) + req.resources.cores;
    if (req.hostPorts.length > 0) {
      own.ownPorts ??= new Set(own.hostPorts);
      own.hostPorts = own.ownPorts;
      for (const p of req.hostPorts) own.ownPorts.add(p);
    }
    return undefined;
  }

  private own(node: NodeSnapshot): ChargedNode {
    let own = this.charged.get(node.name);
    if (!own) {
      own = { ...node, used: { ...node.used } };
      this.charged.set(node.name, own);
    }
    return own;
  }
}

function bindTo(inst: Instance, node: string, autoUid: number | undefined): Instance {
  const { reason: _reason, message: _message, ...rest } = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
  const status: InstanceStatus = { ...rest, node };
  return { ...inst, spec: { ...inst.spec, node, ...(autoUid !== undefined ? { autoUid } : {}) }, status };
}

/** A container (or init container) asks for runAsUser auto and the instance has no uid yet. */
function needsAutoUid(inst: Instance): boolean {
  if (inst.spec.autoUid !== undefined) return false;
  return [...inst.spec.containers, ...(inst.spec.initContainers ?? [])].some((c) => c.securityContext?.runAsUser === 'auto');
}
