// The service controller: key `namespace/name`. Re-reads the Service and its instances from the
// store, takes the smallest step toward `spec.replicas` live instances of the current template
// (one store txn of at most MAX_OPS_PER_TXN creates and as many deletes; a bigger step requeues
// for the rest), then writes status if it changed (CAS; a conflict requeues).
import type { Logger } from 'pino';
import { isAppError, type Instance, type Service } from '../core/index.js';
import type { Store, TxnOp } from '../store/store.js';
import { EventRecorder } from './event-recorder.js';
import { count, listSome } from './event-text.js';
import { drawInstanceNames } from './instance-names.js';
import { newInstanceFor, templateHashOf } from './instance-template.js';
import { isFinished, splitKey } from './instance-phase.js';
import { planService, type ServicePlan } from './service-plan.js';
import { sameStatus, serviceStatus } from './service-status.js';
import type { HandlerResult } from './work-queue.js';

/**
 * Creates (and, separately, deletes) per txn: a 20k-replica scale-up is 20 short txns with the
 * event loop free in between, not one long one that a single conflict throws away.
 */
export const MAX_OPS_PER_TXN = 1000;

export interface ServiceControllerOptions {
  store: Store;
  logger: Logger;
  /** Delay before the second replacement of a finished instance; doubles per repeat. */
  replaceBackoffBaseMs?: number;
  replaceBackoffMaxMs?: number;
  /** A service healthy this long since its last replacement starts its backoff afresh. */
  backoffResetMs?: number;
  now?: () => number;
  random?: () => number;
  /** Shared with the API in the server; a private one otherwise. */
  events?: EventRecorder | undefined;
}

interface Backoff {
  failures: number;
  nextAllowedAt: number;
  lastReplacedAt: number;
}

export class ServiceController {
  /** Per service key; in memory, so a restart forgives (at worst one fast replacement). */
  private readonly backoff = new Map<string, Backoff>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly events: EventRecorder;
  private readonly hashes = new WeakMap<Service, string>();

  constructor(private readonly opts: ServiceControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.events = opts.events ?? new EventRecorder(opts.store);
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const { store, logger } = this.opts;
    const { namespace, name } = splitKey(key);
    const service = await store.get('Service', namespace, name);
    const { instances, known } = await this.instancesOf(namespace, name);

    if (!service) {
      this.backoff.delete(key);
      if (instances.length === 0) return;
      const batch = instances.slice(0, MAX_OPS_PER_TXN);
      await store.txn(batch.map((i) => deleteOp(i)));
      logger.info({ namespace, name, deleted: batch.length, left: instances.length - batch.length }, 'service gone; deleted its instances');
      return batch.length < instances.length ? { requeueAfterMs: 0 } : undefined;
    }

    const now = this.now();
    const b = this.backoff.get(key);
    const hash = this.templateHash(service);
    const full = planService(service, instances, hash, !b || now >= b.nextAllowedAt, b ? new Date(b.nextAllowedAt).toISOString() : '');
    const plan = capped(full);
    const more = plan.create < full.create || plan.remove.length < full.remove.length;

    const created: Instance[] = [];
    if (plan.create > 0 || plan.remove.length > 0) {
      const ops: TxnOp[] = plan.remove.map((i) => deleteOp(i));
      const names = await drawInstanceNames(name, plan.create, known, this.random, async (n) => (await store.get('Instance', namespace, n)) !== undefined);
      for (const n of names) ops.push({ op: 'create', object: newInstanceFor(service, n, hash) });
      const results = await store.txn(ops);
      for (const r of results) if (r.op === 'create' && r.object.kind === 'Instance') created.push(r.object);
      logger.info(
        { namespace, name, revision: service.metadata.revision, created: plan.create, deleted: plan.remove.length, more, reason: plan.progress.reason },
        'service reconciled instances',
      );
      await this.recordChanges(service, plan, created, now);
    }
    if (plan.replacements > 0) this.noteReplacement(key, now);
    else if (plan.progress.reason === 'Complete' && b && now - b.lastReplacedAt >= (this.opts.backoffResetMs ?? 600_000)) {
      this.backoff.delete(key);
    }

    const removed = new Set(plan.remove.map((i) => i.metadata.name));
    const after = [...instances.filter((i) => !removed.has(i.metadata.name)), ...created];
    const status = serviceStatus(service, after, plan.progress, new Date(now).toISOString());
    if (!sameStatus(service.status, status)) {
      try {
        await store.update<Service>({ ...service, status });
      } catch (err) {
        // Someone changed the Service meanwhile: its event requeues us; re-read then.
        if (isAppError(err, 'CONFLICT')) return { requeueAfterMs: 0 };
        if (isAppError(err, 'NOT_FOUND')) return;
        throw err;
      }
    }
    if (more) return { requeueAfterMs: 0 }; // the rest of a big step, after other keys had a turn
    if (plan.heldBack.length > 0 && b) return { requeueAfterMs: Math.max(0, b.nextAllowedAt - now) };
    return;
  }

  /**
   * The service's instances as the store has them now (its `spec.service` index: cost follows the
   * service's instances, not the namespace's), and their names, the ones a new name must avoid.
   */
  private async instancesOf(namespace: string, service: string): Promise<{ instances: Instance[]; known: Set<string> }> {
    const { items } = await this.opts.store.list('Instance', { namespace, field: { path: 'spec.service', value: service } });
    // Job runs share the index (spec.service = the Job's name); they are the job controller's.
    const instances = items.filter((i) => i.spec.ownerKind !== 'Job');
    return { instances, known: new Set(items.map((i) => i.metadata.name)) };
  }

  /**
   * The template hash of this stored Service object, computed once: stored objects are frozen
   * and shared until the next write, and most reconciles (instance status changes) see the same.
   */
  private templateHash(service: Service): string {
    let hash = this.hashes.get(service);
    if (hash === undefined) {
      hash = templateHashOf(service);
      this.hashes.set(service, hash);
    }
    return hash;
  }

  private noteReplacement(key: string, now: number): void {
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    const base = this.opts.replaceBackoffBaseMs ?? 1000;
    const delay = Math.min(base * 2 ** Math.min(failures - 1, 30), this.opts.replaceBackoffMaxMs ?? 120_000);
    this.backoff.set(key, { failures, nextAllowedAt: now + delay, lastReplacedAt: now });
  }

  /** Tells, on the Service, what this pass did to its instances. */
  private async recordChanges(service: Service, plan: ServicePlan, created: readonly Instance[], now: number): Promise<void> {
    const involved = { kind: 'Service', namespace: service.metadata.namespace, name: service.metadata.name };
    const names = (list: readonly Instance[]) => listSome(list.map((i) => i.metadata.name));
    const record = (reason: string, message: string) => this.events.record(involved, 'Normal', reason, message, 'service-controller', new Date(now));
    const { reason } = plan.progress;
    if (reason === 'RollingUpdate') {
      const parts = [created.length > 0 ? `created ${names(created)}` : '', plan.remove.length > 0 ? `deleted ${names(plan.remove)}` : ''];
      await record('RollingUpdate', `${parts.filter(Boolean).join(', ')} (new template ${this.templateHash(service)})`);
      return;
    }
    if (plan.replacements > 0) {
      const replaced = plan.remove.filter(isFinished).slice(0, plan.replacements);
      await record('Replacing', replacingMessage(replaced));
    }
    const added = created.length - plan.replacements;
    if (added > 0) await record('ScalingUp', `created ${count(added, 'instance')} (${names(created.slice(plan.replacements))})`);
    if (reason === 'ScalingDown') {
      const live = plan.remove.filter((i) => !isFinished(i));
      if (live.length > 0) await record('ScalingDown', `deleted ${count(live.length, 'instance')} (${names(live)})`);
    }
  }
}

/** "replacing failed instance web-abcde: container "app" exited with code 1", or a list. */
function replacingMessage(replaced: readonly Instance[]): string {
  const first = replaced[0];
  if (replaced.length === 1 && first) {
    const why = first.status?.message ? `: ${first.status.message}` : '';
    return `replacing ${(first.status?.phase ?? 'failed').toLowerCase()} instance ${first.metadata.name}${why}`;
  }
  const each = replaced.map((i) => `${i.metadata.name} (${i.status?.phase ?? 'Failed'})`);
  return `replacing ${count(replaced.length, 'finished instance')}: ${listSome(each)}`;
}

/** The first MAX_OPS_PER_TXN creates and deletes of `plan`; the rest waits for a requeue. */
function capped(plan: ServicePlan): ServicePlan {
  if (plan.create <= MAX_OPS_PER_TXN && plan.remove.length <= MAX_OPS_PER_TXN) return plan;
  const create = Math.min(plan.create, MAX_OPS_PER_TXN);
  return { ...plan, create, remove: plan.remove.slice(0, MAX_OPS_PER_TXN), replacements: Math.min(plan.replacements, create) };
}

function deleteOp(i: Instance): TxnOp {
  return { op: 'delete', kind: 'Instance', namespace: i.metadata.namespace, name: i.metadata.name };
}
