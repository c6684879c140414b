// The scheduling controller: one key for the whole cluster, because placement is a batch problem
// (each decision changes what fits next). It gathers every unbound Pending instance, asks the
// pure scheduler for a plan against a snapshot, re-checks each placement against the state at
// commit time (optimistic concurrency: the plan carries its snapshot revision), and binds the
// survivors in one store txn. What does not fit gets a reason, and one event per new reason.
import type { Logger } from 'pino';
import { isAppError, type GantryNode, type Instance, type InstanceStatus } from '../core/index.js';
import { buildNodeSnapshots, fits, placementRequestFor, schedule } from '../scheduler/index.js';
import type { NodeSnapshot, PlacementRequest } from '../scheduler/index.js';
import type { Store, TxnOp } from '../store/store.js';
import { EventRecorder } from './event-recorder.js';
import { listSome } from './event-text.js';
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

interface ClusterState {
  revision: number;
  nodes: GantryNode[];
  instances: Instance[];
}

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
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const state = await this.readState();
      const pending = state.instances.filter(isUnboundPending);
      if (pending.length === 0) break; // an earlier attempt may have placed some: report them
      const snapshots = buildNodeSnapshots(state.nodes, state.instances);
      const plan = schedule(snapshots, pending.map(placementRequestFor), { seed: this.seed + this.pass++ }, state.revision);

      // The state moved since the snapshot: judge each placement against the state now.
      const current = (await store.currentRevision()) === plan.revision ? state : await this.readState();
      const check = new CommitCheck(current);
      const ops: TxnOp[] = [];
      let stale = 0;
      for (const p of plan.placements) {
        const inst = check.instance(p.id);
        if (!inst || !isUnboundPending(inst)) continue; // deleted or bound meanwhile: nothing to do
        const reason = check.place(p.node, placementRequestFor(inst));
        if (reason !== undefined) {
          stale++;
          continue;
        }
        ops.push({ op: 'update', object: bindTo(inst, p.node) });
      }
      unplaced = new Map(plan.failures.map((f) => [f.id, f.reason]));
      if (ops.length > 0) {
        try {
          await store.txn(ops);
          for (const op of ops) if (op.op === 'update' && op.object.kind === 'Instance') placed.push(op.object);
        } catch (err) {
          // One instance changed under us (CAS): the whole batch waits for the next attempt.
          if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
          stale += ops.length;
        }
      }
      if (stale === 0) break;
      logger.debug({ attempt, stale, revision: plan.revision }, 'placements went stale; planning again');
    }
    if (placed.length > 0) logger.info({ bound: placed.length, unplaced: unplaced.size }, 'scheduled instances');
    await this.reportPlacements(placed);
    await this.reportFailures(unplaced);
    const leftover = (await store.list('Instance')).items.some(isUnboundPending);
    return leftover ? { requeueAfterMs: this.opts.retryIntervalMs ?? 10_000 } : undefined;
  }

  private async readState(): Promise<ClusterState> {
    const nodes = await this.opts.store.list('Node');
    const instances = await this.opts.store.list('Instance');
    return { revision: Math.max(nodes.revision, instances.revision), nodes: nodes.items, instances: instances.items };
  }

  /** One Scheduled event per service for this pass: which instance went to which node. */
  private async reportPlacements(placed: readonly Instance[]): Promise<void> {
    const byService = new Map<string, Instance[]>();
    for (const inst of placed) {
      const key = nsKey(inst.metadata.namespace, inst.spec.service);
      byService.set(key, [...(byService.get(key) ?? []), inst]);
    }
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
  private readonly instances: Map<string, Instance>;

  constructor(state: ClusterState) {
    this.nodes = new Map(buildNodeSnapshots(state.nodes, state.instances).map((s) => [s.name, s]));
    this.instances = new Map(state.instances.map((i) => [nsKey(i.metadata.namespace, i.metadata.name), i]));
  }

  instance(id: string): Instance | undefined {
    return this.instances.get(id);
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
