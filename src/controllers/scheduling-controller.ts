// The scheduling controller: one key for the whole cluster, because placement is a batch problem
// (each decision changes what fits next). It gathers every unbound Pending instance, asks the
// pure scheduler for a plan against a snapshot, re-checks each placement against the state at
// commit time (optimistic concurrency: the plan carries its snapshot revision), and binds the
// survivors in store txns of up to BIND_CHUNK. What does not fit gets a reason, and one event
// per new reason.
import type { Logger } from 'pino';
import { isAppError, type Instance, type InstanceStatus } from '../core/index.js';
import { buildNodeSnapshots, fits, placementRequestFor, schedule } from '../scheduler/index.js';
import type { NodeSnapshot, PlacementRequest } from '../scheduler/index.js';
import type { Store, TxnOp } from '../store/store.js';
import { ClusterState } from './cluster-state.js';
import { EventRecorder } from './event-recorder.js';
import { listSome } from './event-text.js';
import { groupBy } from './group-by.js';
import { isUnboundPending, nsKey } from './instance-phase.js';
import type { HandlerResult } from './work-queue.js';

export const SCHEDULING_KEY = 'scheduling';

export interface SchedulingControllerOptions {
  store: Store;
  logger: Logger;
  /** Seed of the first pass; each pass uses the next number, so a run is reproducible. */
  seed?: number;
  /** Plans tried per pass when placements go stale between plan and commit. */
  maxAttempts?: number;
  /** While something stays unplaced, try again this often (node events also retry). */
  retryIntervalMs?: number;
  now?: () => Date;
  /** Shared with the API in the server; a private one otherwise. */
  events?: EventRecorder | undefined;
}

/** Binds per txn; between chunks the event loop serves others (heartbeats, API reads). */
export const BIND_CHUNK = 1000;

export class SchedulingController {
  private pass = 0;
  private readonly seed: number;
  private readonly events: EventRecorder;

  constructor(private readonly opts: SchedulingControllerOptions) {
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.events = opts.events ?? new EventRecorder(opts.store);
  }

  async reconcile(): Promise<HandlerResult> {
    const { store, logger } = this.opts;
    const maxAttempts = this.opts.maxAttempts ?? 3;
    let unplaced = new Map<string, string>();
    const placed: Instance[] = [];
    let leftover = false;
    // One list of instances per pass: the unbound Pending set and every node's usage both come
    // from it, and later attempts only replay what changed since.
    let state = await ClusterState.read(store);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) state = await state.catchUp(store);
      const all = state.instances();
      const pending = all.filter(isUnboundPending);
      leftover = pending.length > 0;
      if (pending.length === 0) break; // an earlier attempt may have placed some: report them
      const snapshots = buildNodeSnapshots(state.nodes(), all);
      const plan = schedule(snapshots, pending.map(placementRequestFor), { seed: this.seed + this.pass++ }, state.revision);

      // The state moved since the snapshot: judge each placement against the state now.
      state = await state.catchUp(store);
      const check = new CommitCheck(state);
      const binds: Instance[] = [];
      let stale = 0;
      for (const p of plan.placements) {
        const inst = check.instance(p.id);
        if (!inst || !isUnboundPending(inst)) continue; // deleted or bound meanwhile: nothing to do
        const reason = check.place(p.node, placementRequestFor(inst));
        if (reason !== undefined) {
          stale++;
          continue;
        }
        binds.push(bindTo(inst, p.node));
      }
      unplaced = new Map(plan.failures.map((f) => [f.id, f.reason]));
      const { bound, failed } = await this.bindInChunks(binds);
      for (const inst of bound) placed.push(inst);
      stale += failed;
      leftover = unplaced.size > 0 || stale > 0;
      if (stale === 0) break;
      logger.debug({ attempt, stale, revision: plan.revision }, 'placements went stale; planning again');
    }
    if (placed.length > 0) logger.info({ bound: placed.length, unplaced: unplaced.size }, 'scheduled instances');
    await this.reportPlacements(placed);
    await this.reportFailures(unplaced);
    return leftover ? { requeueAfterMs: this.opts.retryIntervalMs ?? 10_000 } : undefined;
  }

  /** Binds in txns of BIND_CHUNK; a chunk that lost a CAS waits for the next attempt as a whole. */
  private async bindInChunks(binds: readonly Instance[]): Promise<{ bound: Instance[]; failed: number }> {
    const bound: Instance[] = [];
    let failed = 0;
    for (let start = 0; start < binds.length; start += BIND_CHUNK) {
      if (start > 0) await new Promise((r) => setImmediate(r));
      const chunk = binds.slice(start, start + BIND_CHUNK);
      try {
        await this.opts.store.txn(chunk.map((object): TxnOp => ({ op: 'update', object })));
        for (const inst of chunk) bound.push(inst);
      } catch (err) {
        // One instance changed under us (CAS): the chunk waits for the next attempt.
        if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
        failed += chunk.length;
      }
    }
    return { bound, failed };
  }

  /** One Scheduled event per service for this pass: which instance went to which node. */
  private async reportPlacements(placed: readonly Instance[]): Promise<void> {
    const byService = groupBy(placed, (inst) => nsKey(inst.metadata.namespace, inst.spec.service));
    for (const list of byService.values()) {
      const first = list[0]!;
      const where = list.map((i) => `${i.metadata.name} on ${i.spec.node ?? '?'}`);
      await this.events.record(
        { kind: 'Service', namespace: first.metadata.namespace, name: first.spec.service },
        'Normal',
        'Scheduled',
        `placed ${listSome(where)}`,
        'scheduler',
        this.opts.now?.(),
      );
    }
  }

  /** Sets reason and message on instances that did not fit; an event only when the reason is new. */
  private async reportFailures(unplaced: ReadonlyMap<string, string>): Promise<void> {
    const { store, logger } = this.opts;
    for (const [id, message] of unplaced) {
      const slash = id.indexOf('/');
      const inst = await store.get('Instance', id.slice(0, slash), id.slice(slash + 1));
      if (!inst || !isUnboundPending(inst)) continue;
      const status = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
      if (status.reason === 'Unschedulable' && status.message === message) continue;
      try {
        await store.update<Instance>({ ...inst, status: { ...status, reason: 'Unschedulable', message } });
      } catch (err) {
        if (isAppError(err, 'CONFLICT') || isAppError(err, 'NOT_FOUND')) continue; // next pass sees it
        throw err;
      }
      logger.info({ namespace: inst.metadata.namespace, name: inst.metadata.name, reason: message }, 'instance unschedulable');
      await this.events.record(
        { kind: 'Instance', namespace: inst.metadata.namespace, name: inst.metadata.name },
        'Warning',
        'FailedScheduling',
        message,
        'scheduler',
        this.opts.now?.(),
      );
    }
  }
}

/** Node snapshots at commit time, charged with each placement accepted so far. */
class CommitCheck {
  private readonly nodes: Map<string, NodeSnapshot>;

  constructor(private readonly state: ClusterState) {
    this.nodes = new Map(buildNodeSnapshots(state.nodes(), state.instances()).map((s) => [s.name, s]));
  }

  instance(id: string): Instance | undefined {
    return this.state.instance(id);
  }

  /** undefined and charges the node when `req` still fits there; else the reason. */
  place(nodeName: string, req: PlacementRequest): string | undefined {
    const node = this.nodes.get(nodeName);
    if (!node) return `node ${nodeName} is gone`;
    const reason = fits(node, req);
    if (reason !== undefined) return reason;
    const serviceCounts = new Map(node.serviceCounts);
    serviceCounts.set(req.serviceKey, (serviceCounts.get(req.serviceKey) ?? 0) + 1);
    this.nodes.set(nodeName, {
      ...node,
      used: { cpu: node.used.cpu + req.resources.cpu, memory: node.used.memory + req.resources.memory },
      hostPorts: new Set([...node.hostPorts, ...req.hostPorts]),
      serviceCounts,
    });
    return undefined;
  }
}

function bindTo(inst: Instance, node: string): Instance {
  const { reason: _reason, message: _message, ...rest } = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
  const status: InstanceStatus = { ...rest, node };
  return { ...inst, spec: { ...inst.spec, node }, status };
}
