// The service controller: key `namespace/name`. Re-reads the Service and its instances from the
// store, makes sure the current template has a ServiceVersion, takes the smallest step toward
// `spec.replicas` available instances of it (rollout-math.ts: creates within maxSurge, graceful
// stops within maxUnavailable; at most MAX_OPS_PER_TXN of each per pass, a bigger step requeues
// for the rest), moves the rollout record along (rollout-state.ts; a missed deadline with
// autoRollback writes the rollback target's template back into the spec; with nothing to go back to, an
// event says so and the rollout is held: the old version is scaled back up), then writes status
// if it changed (CAS; a conflict requeues). Instances owned by a Job share the spec.service index and
// are ignored here.
import type { Logger } from 'pino';
import { isAppError, isFinished, isReady, namespaceOf, withTemplate as specWithTemplate, type Instance, type RolloutStatus, type Service, type ServiceVersion } from '../../core/index.js';
import type { Store, TxnOp } from '../../store/store.js';
import { updateInChunks } from '../shared/chunked-updates.js';
import { configDigest } from './config-digest.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { count, listSome } from '../shared/event-text.js';
import { drawInstanceNames } from './instance-names.js';
import { agentWillStop, isStopping, stopDeadline, stopFinished, withStop } from '../shared/instance-stop.js';
import { newInstanceFor, templateHashOf } from './instance-template.js';
import { isRollbackCause, nextRollout, stayingMessage, type RolloutTransition } from './rollout-state.js';
import { planService, type PlanCounts, type ServicePlan } from './service-plan.js';
import { sameStatus, serviceStatus } from './service-status.js';
import { CHANGE_CAUSE_ANNOTATION, ServiceVersions, changeCause } from '../../runtime/service-versions.js';
import type { HandlerResult } from '../../runtime/work-queue.js';
import { splitKey } from '../shared/queue-keys.js';

/**
 * Creates (and, separately, deletes and stops) per txn: a 20k-replica scale-up is 20 short txns
 * with the event loop free in between, not one long one that a single conflict throws away.
 */
export const MAX_OPS_PER_TXN = 1000;

/** After a stop write lost a race with an agent's status report: look again soon, not at once. */
const STOP_RETRY_MS = 100;

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
  events: EventRecorder;
  /** Node readiness from an informer's cache (undefined: not known there, read the store). */
  nodeReady?: ((node: string) => boolean | undefined) | undefined;
}

interface Backoff {
  failures: number;
  nextAllowedAt: number;
  lastReplacedAt: number;
}

export class ServiceController {
  /** Per service key; in memory, so a restart forgives (at worst one fast replacement). */
  private readonly backoff = new Map<string, Backoff>();
  /**
   * When each ready instance was first seen ready, per service key, for minReadySeconds. In
   * memory: after a restart every instance waits minReadySeconds again, which errs safe.
   */
  private readonly readySince = new Map<string, Map<string, number>>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly events: EventRecorder;
  private readonly versions: ServiceVersions;

  constructor(private readonly opts: ServiceControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.events = opts.events;
    this.versions = new ServiceVersions(opts.store);
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const { store, logger } = this.opts;
    const { namespace, name } = splitKey(key);
    const service = await store.get('Service', namespace, name);
    const { instances, known } = await this.instancesOf(namespace, name);
    const now = this.now();
    const nodeReady = await this.nodeReadiness(instances);
    if (!service) return this.reconcileDeleted(key, namespace, name, instances, nodeReady, now);

    const hash = templateHashOf(service, await configDigest(service.spec, async (kind, ref) => (await store.get(kind, namespace, ref))?.spec.data));
    const { version, created: newVersion } = await this.versions.ensure(service, hash);
    const prev = service.status?.rollout;
    const b = this.backoff.get(key);
    const { isAvailable, wakeAt: readyWake } = this.availability(key, service, instances, now);
    const full = planService({
      service,
      instances,
      templateHash: hash,
      replaceAllowed: !b || now >= b.nextAllowedAt,
      nextReplaceAt: b ? new Date(b.nextAllowedAt).toISOString() : '',
      isAvailable,
      nodeReady,
      nowMs: now,
      promoted: prev?.version === version.spec.version && prev.promoted === true,
      held: prev?.version === version.spec.version && prev.phase === 'Failed',
    });
    const plan = capped(full);
    let more = plan.create < full.create || plan.remove.length < full.remove.length || plan.stop.length < full.stop.length;

    const created: Instance[] = [];
    if (plan.create > 0 || plan.remove.length > 0) {
      const ops: TxnOp[] = plan.remove.map((i) => deleteOp(i));
      const names = await drawInstanceNames(name, plan.create, known(), this.random, async (n) => (await store.get('Instance', namespace, n)) !== undefined);
      const extras = { version: version.spec.version, avoidNodes: plan.avoidNodes };
      for (const n of names) ops.push({ op: 'create', object: newInstanceFor(service, n, hash, extras) });
      const results = await store.txn(ops);
      for (const r of results) if (r.op === 'create' && r.object.kind === 'Instance') created.push(r.object);
    }
    const refilled = plan.refill ? await this.refill(service, plan.refill, known) : [];
    const stopped = await this.stopAll(plan.stop, stopReason(plan, hash), now);
    if (stopped.lost) more = true;
    if (plan.create > 0 || plan.remove.length > 0 || plan.stop.length > 0) {
      logger.info(
        { namespace, name, revision: service.metadata.revision, version: version.spec.version, created: plan.create, deleted: plan.remove.length, stopped: stopped.done.length, more, reason: plan.progress.reason },
        'service reconciled instances',
      );
      await this.recordChanges(service, plan, created, stopped.done, { version: version.spec.version, hash }, now);
    }
    if (refilled.length > 0) await this.record(service, 'Normal', 'ScalingUp', `scaled v${plan.refill?.version ?? '?'} back up to ${service.spec.replicas ?? 1} (${listSome(refilled.map((i) => i.metadata.name))}): the rollout of v${version.spec.version} failed and was not rolled back`, now);
    if (plan.failedReplacements > 0 || refilled.length > 0) this.noteReplacement(key, now);
    else if (plan.progress.reason === 'Complete' && b && now - b.lastReplacedAt >= (this.opts.backoffResetMs ?? 600_000)) {
      this.backoff.delete(key);
    }

    const stoppedNames = new Set(stopped.done.map((i) => i.metadata.name));
    const goneLive = [...plan.remove.filter((i) => !isFinished(i) && !isStopping(i)), ...plan.stop.filter((i) => stoppedNames.has(i.metadata.name))];
    const counts = afterWrites(full.counts, goneLive, created.length, hash, isAvailable);
    counts.live += refilled.length;
    counts.outdated += refilled.length;
    const replicas = service.spec.replicas ?? 1;
    const autoRollback = service.spec.update?.autoRollback ?? true;
    const transition = nextRollout(
      prev,
      {
        version: version.spec.version,
        createdCause: newVersion ? version.spec.cause : undefined,
        outdated: counts.outdated,
        updated: counts.updated,
        updatedAvailable: counts.updatedAvailable,
        replicas,
        paused: service.spec.paused === true,
        canary: service.spec.update?.canary,
        progressDeadlineMs: (service.spec.update?.progressDeadlineSeconds ?? 600) * 1000,
        blocked: full.blocked,
        available: counts.available,
        previousReady: prev && prev.version !== version.spec.version ? readyOf(instances, prev.version) : 0,
        autoRollback,
      },
      now,
    );
    if (newVersion) await this.afterNewVersion(service, version, transition.rollout);
    await this.recordRollout(service, prev, transition, now);

    const removed = new Set([...plan.remove, ...stopped.done].map((i) => i.metadata.name));
    const after = [...instances.filter((i) => !removed.has(i.metadata.name)), ...created, ...refilled];
    const status = serviceStatus({ service, instances: after, counts, progress: plan.progress, version: version.spec.version, rollout: transition.rollout, now: new Date(now).toISOString() });

    if (transition.failedNow && autoRollback) {
      const from = transition.rollout.fromVersion;
      const target = from !== undefined && !isRollbackCause(version.spec.cause) ? await this.versions.get(namespace, name, from) : undefined;
      if (target && target.spec.templateHash !== hash) return this.rollBack(service, target, status, transition.rollout, now);
      const staying = stayingMessage(transition.rollout, { autoRollback, available: counts.available, replicas });
      if (staying) await this.record(service, 'Warning', 'NoRollbackTarget', staying, now);
      else await this.record(service, 'Warning', 'NoRollbackTarget', `v${from ?? '?'} cannot be rolled back to (${target ? 'it has the same template' : 'its version is gone'}); staying on v${version.spec.version}`, now);
    }
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
    if (more) return { requeueAfterMs: stopped.lost ? STOP_RETRY_MS : 0 }; // the rest of a big step, after other keys had a turn
    const wake = earliest([plan.heldBack.length > 0 && b ? b.nextAllowedAt : undefined, plan.wakeAt, readyWake, transition.deadlineAt, ...stopped.done.map(stopDeadline)]);
    return wake === undefined ? undefined : { requeueAfterMs: Math.max(0, wake - now) };
  }

  /**
   * The service is gone: stop every live instance, delete the objects once stopped (or when no
   * agent will stop them), and its version history.
   */
  private async reconcileDeleted(
    key: string,
    namespace: string,
    name: string,
    instances: readonly Instance[],
    nodeReady: (node: string) => boolean,
    now: number,
  ): Promise<HandlerResult> {
    this.backoff.delete(key);
    this.readySince.delete(key);
    await this.versions.deleteAll(namespace, name);
    const remove: Instance[] = [];
    const stop: Instance[] = [];
    let wakeAt: number | undefined;
    for (const i of instances) {
      if (isStopping(i)) {
        if (stopFinished(i, nodeReady, now)) remove.push(i);
        else wakeAt = earliest([wakeAt, stopDeadline(i)]);
      } else if (isFinished(i) || !agentWillStop(i, nodeReady)) remove.push(i);
      else stop.push(i);
    }
    if (remove.length === 0 && stop.length === 0) return wakeAt === undefined ? undefined : { requeueAfterMs: Math.max(0, wakeAt - now) };
    const batch = remove.slice(0, MAX_OPS_PER_TXN);
    if (batch.length > 0) await this.opts.store.txn(batch.map((i) => deleteOp(i)));
    const stopped = await this.stopAll(stop.slice(0, MAX_OPS_PER_TXN), 'service deleted', now);
    this.opts.logger.info({ namespace, name, deleted: batch.length, stopping: stopped.done.length }, 'service gone; stopping and deleting its instances');
    if (batch.length < remove.length || stopped.done.length < stop.length) return { requeueAfterMs: stopped.lost ? STOP_RETRY_MS : 0 };
    // Wake when the first stop's time is up, in case its agent never reports.
    const first = earliest([wakeAt, ...stopped.done.map(stopDeadline)]);
    return first === undefined ? undefined : { requeueAfterMs: Math.max(0, first - now) };
  }

  /** Sets spec.stop (CAS, in txns of MAX_OPS_PER_TXN); `lost`: some changed meanwhile (try again soon). */
  private async stopAll(list: readonly Instance[], reason: string, now: number): Promise<{ done: Instance[]; lost: boolean }> {
    if (list.length === 0) return { done: [], lost: false };
    const out = await updateInChunks(this.opts.store, list.map((i) => withStop(i, reason, now)), MAX_OPS_PER_TXN);
    return { done: out.written, lost: out.changed.length > 0 };
  }

  /** A held rollout scales the old version back up: `count` instances made from ServiceVersion `version`. */
  private async refill(service: Service, refill: { version: number; count: number }, known: () => Set<string>): Promise<Instance[]> {
    const { store } = this.opts;
    const namespace = namespaceOf(service);
    const old = await this.versions.get(namespace, service.metadata.name, refill.version);
    if (!old) return [];
    const from = withTemplate(service, old);
    const count = Math.min(refill.count, MAX_OPS_PER_TXN);
    const names = await drawInstanceNames(service.metadata.name, count, known(), this.random, async (n) => (await store.get('Instance', namespace, n)) !== undefined);
    const results = await store.txn(names.map((n) => ({ op: 'create' as const, object: newInstanceFor(from, n, old.spec.templateHash, { version: refill.version }) })));
    return results.flatMap((r) => (r.op === 'create' && r.object.kind === 'Instance' ? [r.object] : []));
  }

  /** Auto-rollback: the target version's template goes back into the spec (a new version). */
  private async rollBack(service: Service, target: ServiceVersion, status: Service['status'], rollout: RolloutStatus, now: number): Promise<HandlerResult> {
    const generation = (service.metadata.generation ?? 1) + 1;
    const cause = `rolled back to v${target.spec.version}: ${rollout.message ?? 'rollout failed'}`;
    const next: Service = {
      ...withTemplate(service, target),
      metadata: { ...service.metadata, generation, annotations: { ...service.metadata.annotations, [CHANGE_CAUSE_ANNOTATION]: changeCause(generation, cause) } },
      ...(status ? { status } : {}),
    };
    try {
      await this.opts.store.update<Service>(next);
    } catch (err) {
      if (isAppError(err, 'CONFLICT')) return { requeueAfterMs: 0 };
      if (isAppError(err, 'NOT_FOUND')) return;
      throw err;
    }
    this.opts.logger.warn({ namespace: service.metadata.namespace, name: service.metadata.name, to: target.spec.version, cause }, 'rollout failed; rolling back');
    await this.record(service, 'Warning', 'RolledBack', cause, now);
    return { requeueAfterMs: 0 };
  }

  /** History beyond historyLimit goes; the current version and the one a rollback returns to stay. */
  private async afterNewVersion(service: Service, version: ServiceVersion, rollout: RolloutStatus): Promise<void> {
    const keep = new Set([version.spec.version, ...(rollout.fromVersion !== undefined ? [rollout.fromVersion] : [])]);
    await this.versions.prune(namespaceOf(service), service.metadata.name, service.spec.historyLimit ?? 10, keep);
  }

  /**
   * The service's instances as the store has them now (its `spec.service` index: cost follows the
   * service's instances, not the namespace's), and their names, the ones a new name must avoid.
   * Job instances share the index; they are not ours.
   */
  private async instancesOf(namespace: string, service: string): Promise<{ instances: Instance[]; known: () => Set<string> }> {
    const { items } = await this.opts.store.list('Instance', { namespace, field: { path: 'spec.service', value: service } });
    // The name set only when creating: at 50,000 instances it is most of a steady pass's cost.
    return { instances: items.filter((i) => i.spec.ownerKind !== 'Job'), known: () => new Set(items.map((i) => i.metadata.name)) };
  }

  /** Whether each instance's node is ready: the informer's view when it knows the node, else the store's. */
  private async nodeReadiness(instances: readonly Instance[]): Promise<(node: string) => boolean> {
    const ready = new Map<string, boolean>();
    for (const i of instances) {
      const node = i.spec.node;
      if (node === undefined || ready.has(node)) continue;
      ready.set(node, this.opts.nodeReady?.(node) ?? (await this.opts.store.get('Node', undefined, node))?.status?.ready === true);
    }
    return (node) => ready.get(node) === true;
  }

  /** Available = ready, not stopping, and ready for minReadySeconds; and when the next one will be. */
  private availability(key: string, service: Service, instances: readonly Instance[], now: number): { isAvailable: (i: Instance) => boolean; wakeAt?: number | undefined } {
    const minReadyMs = (service.spec.update?.minReadySeconds ?? 0) * 1000;
    if (minReadyMs === 0) {
      this.readySince.delete(key);
      return { isAvailable: (i) => isReady(i) && !isStopping(i) };
    }
    const before = this.readySince.get(key);
    const since = new Map<string, number>();
    let wakeAt: number | undefined;
    for (const i of instances) {
      if (!isReady(i) || isStopping(i)) continue;
      const t = before?.get(i.metadata.uid) ?? now;
      since.set(i.metadata.uid, t);
      if (t + minReadyMs > now) wakeAt = earliest([wakeAt, t + minReadyMs]);
    }
    this.readySince.set(key, since);
    return { isAvailable: (i) => !isStopping(i) && (since.get(i.metadata.uid) ?? Infinity) + minReadyMs <= now, wakeAt };
  }

  private noteReplacement(key: string, now: number): void {
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    const base = this.opts.replaceBackoffBaseMs ?? 1000;
    const delay = Math.min(base * 2 ** Math.min(failures - 1, 30), this.opts.replaceBackoffMaxMs ?? 120_000);
    this.backoff.set(key, { failures, nextAllowedAt: now + delay, lastReplacedAt: now });
  }

  private record(service: Service, type: 'Normal' | 'Warning', reason: string, message: string, now: number): Promise<unknown> {
    const involved = { kind: 'Service', namespace: service.metadata.namespace, name: service.metadata.name };
    return this.events.record(involved, type, reason, message, 'service-controller', new Date(now));
  }

  /** Tells, on the Service, what this pass did to its instances. */
  private async recordChanges(service: Service, plan: ServicePlan, created: readonly Instance[], stopped: readonly Instance[], current: CurrentVersion, now: number): Promise<void> {
    const names = (list: readonly Instance[]) => listSome(list.map((i) => i.metadata.name));
    const record = (reason: string, message: string) => this.record(service, 'Normal', reason, message, now);
    const { reason } = plan.progress;
    const gone = [...stopped, ...plan.remove.filter((i) => !isFinished(i) && !isStopping(i))];
    if (reason === 'RollingUpdate') {
      // A pass that only deleted the objects of instances already stopped did nothing to tell.
      for (const step of rolloutSteps(plan, created, gone, current)) await record(step.reason, step.message);
      return;
    }
    if (plan.replacements > 0) {
      const replaced = plan.remove.filter((i) => isFinished(i) && !isStopping(i)).slice(0, plan.replacements);
      await record('Replacing', replacingMessage(replaced));
    }
    const added = created.length - plan.replacements;
    if (added > 0) await record('ScalingUp', `created ${count(added, 'instance')} (${names(created.slice(plan.replacements))})`);
    const deleted = plan.remove.filter((i) => !isFinished(i) && !isStopping(i));
    const down = [stopped.length > 0 ? `stopping ${count(stopped.length, 'instance')} (${names(stopped)})` : '', deleted.length > 0 ? `deleted ${count(deleted.length, 'instance')} (${names(deleted)})` : ''];
    if (gone.length > 0) await record('ScalingDown', down.filter(Boolean).join(', '));
  }

  /** Events for the rollout's own steps: started, paused, canary waiting, complete, failed. */
  private async recordRollout(service: Service, prev: RolloutStatus | undefined, t: RolloutTransition, now: number): Promise<void> {
    const r = t.rollout;
    const changed = !prev || prev.version !== r.version || prev.phase !== r.phase;
    if (!changed) return;
    const v = `v${r.version}`;
    if (t.started && prev) {
      if (r.phase !== 'RolledBack') await this.record(service, 'Normal', 'RolloutStarted', `rolling out ${v}${r.fromVersion !== undefined ? ` (from v${r.fromVersion})` : ''}`, now);
      return;
    }
    if (r.phase === 'Paused') await this.record(service, 'Normal', 'RolloutPaused', `rollout of ${v} paused`, now);
    else if (r.phase === 'CanaryPaused') await this.record(service, 'Normal', 'CanaryWaiting', `canary waiting for promote: ${r.message ?? ''}`, now);
    else if (r.phase === 'Complete' && prev) await this.record(service, 'Normal', 'RolloutComplete', `rollout of ${v} complete`, now);
    else if (r.phase === 'Failed') await this.record(service, 'Warning', 'RolloutFailed', r.message ?? `rollout of ${v} failed`, now);
    else if (r.phase === 'Progressing' && (prev?.phase === 'Paused' || prev?.phase === 'CanaryPaused')) await this.record(service, 'Normal', 'RolloutResumed', `rollout of ${v} resumed`, now);
    else if (r.phase === 'Progressing' && prev?.phase === 'Failed') await this.record(service, 'Normal', 'RolloutResumed', `rollout of ${v} resumed: a new instance became available`, now);
  }
}

/** The service with `version`'s template in place of its own. */
function withTemplate(service: Service, version: ServiceVersion): Service {
  return { ...service, spec: specWithTemplate(service.spec, version.spec.template) };
}

/** Ready instances of `version` that are not being stopped: it is serving. */
function readyOf(instances: readonly Instance[], version: number): number {
  return instances.filter((i) => i.spec.version === version && isReady(i) && !isStopping(i)).length;
}

function stopReason(plan: ServicePlan, hash: string): string {
  const first = plan.stop[0];
  if (!first) return 'stop';
  if (first.spec.evict) return `evicted: ${first.spec.evict.reason}`;
  return first.spec.templateHash !== hash ? 'rollout' : 'scale down';
}

/** The version a pass works towards: its number and template hash. */
interface CurrentVersion {
  version: number;
  hash: string;
}

/**
 * The events of one rolling step, each saying what happened, for the two kinds of replacement:
 * a new version (RollingUpdate: "scaled up v2 to 2 (web-a)", "scaled down v1 to 3 (stopping
 * web-b)", counting only live instances not being replaced) and evicted instances of the current
 * version moving off a node (Rescheduling: "started 1 replacement (web-c) for evicted web-d: node
 * n1 is draining", "stopping evicted instance web-d: node n1 is draining"). Nothing created nor
 * stopped: no event.
 */
function rolloutSteps(plan: ServicePlan, created: readonly Instance[], gone: readonly Instance[], current: CurrentVersion): { reason: string; message: string }[] {
  const names = (list: readonly Instance[]) => listSome(list.map((i) => i.metadata.name));
  const version = (i: Instance) => (i.spec.version !== undefined ? `v${i.spec.version}` : 'old');
  const outdatedGone = gone.filter((i) => i.spec.templateHash !== current.hash);
  const evictedGone = gone.filter((i) => i.spec.templateHash === current.hash && i.spec.evict);
  const currentGone = gone.filter((i) => i.spec.templateHash === current.hash && !i.spec.evict);
  const rolling = plan.counts.outdated > 0 || outdatedGone.length > 0;
  // Live instances of the current version that stay: neither evicted nor stopped in this pass.
  const serving = plan.counts.updated - plan.evicted.length - currentGone.length;
  const rollingParts: string[] = [];
  const movingParts: string[] = [];
  if (created.length > 0) {
    if (rolling) rollingParts.push(`scaled up v${current.version} to ${serving + created.length} (${names(created)})`);
    else movingParts.push(`started ${count(created.length, 'replacement')} (${names(created)}) for evicted ${names(plan.evicted)}${evictionWhy(plan.evicted)}`);
  }
  if (outdatedGone.length > 0) {
    const versions = [...new Set(outdatedGone.map(version))].join(', ');
    rollingParts.push(`scaled down ${versions} to ${Math.max(0, plan.counts.outdated - outdatedGone.length)} (stopping ${names(outdatedGone)})`);
  }
  if (currentGone.length > 0) rollingParts.push(`scaled down v${current.version} to ${Math.max(0, serving)} (stopping ${names(currentGone)})`);
  for (const i of evictedGone) movingParts.push(`stopping evicted instance ${i.metadata.name}${evictionWhy([i])}`);
  return [
    ...(rollingParts.length > 0 ? [{ reason: 'RollingUpdate', message: rollingParts.join(', ') }] : []),
    ...movingParts.map((message) => ({ reason: 'Rescheduling', message })),
  ];
}

/** ": node n1 is draining" (the eviction's message, else its reason), from the first of `evicted`. */
function evictionWhy(evicted: readonly Instance[]): string {
  const e = evicted[0]?.spec.evict;
  return e ? `: ${e.message ?? e.reason}` : '';
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

/** The counts after this pass's writes: `gone` (live instances stopped or deleted) out, created ones in. */
function afterWrites(c: PlanCounts, gone: readonly Instance[], created: number, hash: string, isAvailable: (i: Instance) => boolean): PlanCounts {
  const out = { ...c, live: c.live + created, updated: c.updated + created };
  for (const i of gone) {
    out.live--;
    if (isReady(i)) out.ready--;
    if (isAvailable(i)) out.available--;
    if (i.spec.templateHash === hash) {
      out.updated--;
      if (isAvailable(i)) out.updatedAvailable--;
    } else out.outdated--;
  }
  return out;
}

function earliest(times: readonly (number | undefined)[]): number | undefined {
  let min: number | undefined;
  for (const t of times) if (t !== undefined && (min === undefined || t < min)) min = t;
  return min;
}

/** The first MAX_OPS_PER_TXN creates, deletes and stops of `plan`; the rest waits for a requeue. */
function capped(plan: ServicePlan): ServicePlan {
  if (plan.create <= MAX_OPS_PER_TXN && plan.remove.length <= MAX_OPS_PER_TXN && plan.stop.length <= MAX_OPS_PER_TXN) return plan;
  const create = Math.min(plan.create, MAX_OPS_PER_TXN);
  return {
    ...plan,
    create,
    remove: plan.remove.slice(0, MAX_OPS_PER_TXN),
    stop: plan.stop.slice(0, MAX_OPS_PER_TXN),
    replacements: Math.min(plan.replacements, create),
    // Lost instances are replaced first: Failed ones get what is left of the capped creates.
    failedReplacements: Math.min(plan.failedReplacements, Math.max(0, create - (plan.replacements - plan.failedReplacements))),
  };
}

function deleteOp(i: Instance): TxnOp {
  return { op: 'delete', kind: 'Instance', namespace: i.metadata.namespace, name: i.metadata.name };
}
