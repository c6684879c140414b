// The pure half of the service controller: given a Service and its instances, which instances to
// create, which to stop (graceful: spec.stop) and which objects to delete. Rollouts follow
// rollout-math.ts; evicted instances are replaced like outdated ones (surge-first). Failed and
// Succeeded instances are replaced only when the per-service backoff allows, so a crash-looping
// image cannot turn into a tight create/destroy loop (which the source material's teams saw lock
// up host kernels). Lost instances are replaced at once and not counted by the backoff: losing
// one took a node's silence of `lostAfter`, which is no tight loop, and a node that died is not
// the instance's failure (a service that lost instances on several nodes, marked a second apart,
// would otherwise wait 1 s, 2 s, 4 s ... for each later replacement).
// A Lost original of an onNodeReturn KeepOriginal service is replaced but not deleted: it waits
// for its node to return (node-return.ts).
// While the current version's rollout is Failed (held), the rollout stops: nothing more of the
// old version is stopped, no new instances are made (finished ones are not replaced), and the
// old version is scaled back up to replicas (`refill`), so a failure that is not rolled back
// never leaves the service short by maxUnavailable.
import { isFinished, isReady, isUnboundPending, type Instance, type Service } from '../../core/index.js';
import { awaitsNodeReturn } from '../node/node-return.js';
import { agentWillStop, isStopping, stopDeadline, stopFinished } from '../shared/instance-stop.js';
import { resolveBounds, rolloutCounts, type RolloutBounds } from './rollout-math.js';
import { scaleDownOrder } from './scale-down-order.js';

export interface Progress {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface PlanCounts {
  /** Live, not stopping. */
  live: number;
  ready: number;
  available: number;
  /** Live instances of the current template (evicted included). */
  updated: number;
  updatedAvailable: number;
  /** Live instances of an older template. */
  outdated: number;
}

export interface ServicePlan {
  create: number;
  /** Objects to delete now: finished, stopped, or never started. */
  remove: Instance[];
  /** Live instances to stop gracefully (spec.stop). */
  stop: Instance[];
  /** How many of `create` replace finished instances. */
  replacements: number;
  /** How many of `replacements` replace Failed or Succeeded instances: the backoff counts these, not Lost ones. */
  failedReplacements: number;
  /** Finished instances kept until the backoff allows replacing them. */
  heldBack: Instance[];
  progress: Progress;
  /** For new instances: nodes where crash-looping predecessors ran. */
  avoidNodes: string[];
  /** The earliest time a stopping instance's object may be deleted without its agent's word. */
  wakeAt?: number | undefined;
  counts: PlanCounts;
  /** Why current instances are not available (for a failed rollout's message). */
  blocked?: string | undefined;
  /** Held (failed) rollout: instances of the old version `version` to create, back up to replicas. */
  refill?: { version: number; count: number } | undefined;
  /** Live instances of the current template marked for eviction (drain, crash loop), not stopping yet. */
  evicted: Instance[];
}

export interface PlanInput {
  service: Service;
  /** The service's instances (never a Job's). */
  instances: readonly Instance[];
  templateHash: string;
  /** false while the service's replacement backoff runs */
  replaceAllowed: boolean;
  /** for the message only; a fixed time, so the status does not change every pass */
  nextReplaceAt?: string;
  /** Ready for minReadySeconds and not stopping. */
  isAvailable: (i: Instance) => boolean;
  nodeReady: (node: string) => boolean;
  nowMs: number;
  /** The current version's canary was promoted (or there is no canary). */
  promoted: boolean;
  /** The current version's rollout failed and was not rolled back: hold it (see above). */
  held?: boolean | undefined;
}

const MAX_AVOID_NODES = 10;

export function desiredReplicas(service: Service): number {
  return service.spec.replicas ?? 1;
}

export function planService(input: PlanInput): ServicePlan {
  const { service, templateHash, isAvailable, nowMs } = input;
  const replicas = desiredReplicas(service);
  const update = service.spec.update;
  const bounds = resolveBounds(replicas, update);

  const remove: Instance[] = [];
  const finished: Instance[] = [];
  const current: Instance[] = [];
  const old: Instance[] = [];
  let outdated = 0;
  let oldStopping = 0;
  let wakeAt: number | undefined;
  for (const i of input.instances) {
    if (isStopping(i)) {
      if (stopFinished(i, input.nodeReady, nowMs)) remove.push(i);
      else {
        if (i.spec.templateHash !== templateHash) oldStopping++;
        const at = stopDeadline(i);
        wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
      }
    } else if (isFinished(i)) {
      // onNodeReturn KeepOriginal: replaced, but kept for its node's return (node-return.ts).
      if (!awaitsNodeReturn(service.spec.onNodeReturn, i, nowMs)) finished.push(i);
    }
    else if (i.spec.templateHash !== templateHash) {
      old.push(i);
      outdated++;
    } else if (i.spec.evict) old.push(i);
    else current.push(i);
  }

  const availableOf = (list: readonly Instance[]) => list.reduce((n, i) => n + (isAvailable(i) ? 1 : 0), 0);
  const currentAvailable = availableOf(current);
  const oldAvailable = availableOf(old);
  const canary = update?.canary;
  const rolling = outdated > 0;
  const newTarget = rolling && canary !== undefined && canary > 0 && !input.promoted ? Math.min(canary, replicas) : replicas;
  const outdatedLive = old.filter((i) => i.spec.templateHash !== templateHash);
  const held = input.held === true && outdatedLive.length > 0;
  const counts = held ? heldCounts(replicas, outdatedLive.length, availableOf(outdatedLive)) : rolloutCounts({
    replicas,
    bounds,
    // Recreate is for a new version (still stopping counts); evictions alone replace surge-first.
    strategy: rolling || oldStopping > 0 ? (update?.strategy ?? 'Rolling') : 'Rolling',
    current: { total: current.length, available: currentAvailable },
    old: { total: old.length, available: oldAvailable },
    oldStopping,
    newTarget,
    paused: service.spec.paused === true,
  });

  // Which instances the counts mean: the cheapest to lose first, evicted before outdated.
  const stop: Instance[] = [];
  const take = (list: readonly Instance[], n: number) => {
    if (n <= 0) return;
    for (const i of scaleDownOrder(list).sort((a, b) => Number(!a.spec.evict) - Number(!b.spec.evict)).slice(0, n)) {
      // Nobody will run the stop sequence for an unbound instance or one on a dead node.
      if (agentWillStop(i, input.nodeReady)) stop.push(i);
      else remove.push(i);
    }
  };
  const stoppable = held ? outdatedLive : old;
  take(stoppable.filter((i) => !isAvailable(i)), counts.stopOldUnavailable);
  take(stoppable.filter(isAvailable), counts.stopOldAvailable);
  take(current, counts.stopCurrent);

  // Lost instances are replaced first and at once; Failed and Succeeded ones wait for the backoff.
  let create = counts.create;
  const lost = finished.filter((i) => i.status?.phase === 'Lost');
  const failed = finished.filter((i) => i.status?.phase !== 'Lost');
  const replacingLost = Math.min(create, lost.length);
  remove.push(...lost);
  let failedReplacements = 0;
  let heldBack: Instance[] = [];
  const replacingFailed = Math.min(create - replacingLost, failed.length);
  if (replacingFailed > 0 && !input.replaceAllowed) {
    heldBack = failed.slice(0, replacingFailed);
    remove.push(...failed.slice(replacingFailed));
    create -= replacingFailed;
  } else {
    failedReplacements = replacingFailed;
    remove.push(...failed);
  }
  const replacements = replacingLost + failedReplacements;

  const ready = [...current, ...old].filter(isReady).length;
  const planCounts: PlanCounts = {
    live: current.length + old.length,
    ready,
    available: currentAvailable + oldAvailable,
    updated: current.length + old.length - outdated,
    updatedAvailable: currentAvailable + old.filter((i) => i.spec.templateHash === templateHash && isAvailable(i)).length,
    outdated,
  };
  const blocked = blockedReason(current, isAvailable);
  // The newest old version still live is the one to scale back up; like replacements, after the backoff.
  const missing = held && input.replaceAllowed ? replicas - outdatedLive.length : 0;
  const refillVersion = Math.max(...outdatedLive.map((i) => i.spec.version ?? 0));
  const refill = missing > 0 && refillVersion > 0 ? { version: refillVersion, count: missing } : undefined;
  const progress = progressOf({ replicas, bounds, counts, create, stop, heldBack, replacements, outdated, old, current, planCounts, nextReplaceAt: input.nextReplaceAt ?? '' });
  const evicted = old.filter((i) => i.spec.templateHash === templateHash);
  return { create, remove, stop, replacements, failedReplacements, heldBack, progress, avoidNodes: avoidNodesFor(old), wakeAt, counts: planCounts, blocked, refill, evicted };
}

/** A held rollout: no new instances, only surplus old ones stop (replicas lowered meanwhile). */
function heldCounts(replicas: number, outdatedLive: number, outdatedAvailable: number): ReturnType<typeof rolloutCounts> {
  const surplus = Math.max(0, outdatedLive - replicas);
  const stopOldUnavailable = Math.min(surplus, outdatedLive - outdatedAvailable);
  return { create: 0, stopOldUnavailable, stopOldAvailable: surplus - stopOldUnavailable, stopCurrent: 0 };
}

/** Nodes where crash-looping (evicted CrashLoop) instances ran, plus those they avoided already. */
function avoidNodesFor(old: readonly Instance[]): string[] {
  const nodes = new Set<string>();
  for (const i of old) {
    if (i.spec.evict?.reason !== 'CrashLoop') continue;
    if (i.spec.node) nodes.add(i.spec.node);
    for (const n of i.spec.avoidNodes ?? []) nodes.add(n);
  }
  return [...nodes].slice(0, MAX_AVOID_NODES);
}

function blockedReason(current: readonly Instance[], isAvailable: (i: Instance) => boolean): string | undefined {
  const stuck = current.filter((i) => !isAvailable(i));
  const first = stuck.find((i) => i.status?.message || i.status?.reason) ?? stuck[0];
  if (!first) return undefined;
  const why = first.status?.message ?? first.status?.reason ?? (isReady(first) ? 'not ready for minReadySeconds yet' : `${first.status?.phase ?? 'Pending'}, not ready`);
  return `instance ${first.metadata.name}: ${why}${stuck.length > 1 ? ` (and ${stuck.length - 1} more not available)` : ''}`;
}

interface ProgressInput {
  replicas: number;
  bounds: RolloutBounds;
  counts: ReturnType<typeof rolloutCounts>;
  create: number;
  stop: readonly Instance[];
  heldBack: readonly Instance[];
  replacements: number;
  outdated: number;
  old: readonly Instance[];
  current: readonly Instance[];
  planCounts: PlanCounts;
  nextReplaceAt: string;
}

function progressOf(p: ProgressInput): Progress {
  const plural = (n: number) => (n === 1 ? '' : 's');
  const first = p.heldBack[0];
  if (first) {
    const why = first.status?.message ? `: ${first.status.message}` : '';
    return {
      status: 'False',
      reason: 'BackOff',
      message: `instance ${first.metadata.name} is ${first.status?.phase ?? 'Failed'}${why}; next replacement at ${p.nextReplaceAt}`,
    };
  }
  if (p.outdated > 0 || p.old.length > 0) {
    const what = p.outdated > 0 ? `${p.outdated} of ${p.planCounts.live} instances run an old version` : `${p.old.length} evicted instance${plural(p.old.length)} to replace`;
    const idle = p.create === 0 && p.stop.length === 0;
    const stuck = idle ? p.current.find((i) => isUnboundPending(i) && i.status?.reason === 'Unschedulable') : undefined;
    if (stuck && p.bounds.unavailable === 0) {
      return {
        status: 'True',
        reason: 'RollingUpdate',
        message: `${what}; new instance ${stuck.metadata.name} cannot be placed (${stuck.status?.message ?? 'no node fits'}) and maxUnavailable is 0: set spec.update.maxUnavailable to 1 to replace in place`,
      };
    }
    return { status: 'True', reason: 'RollingUpdate', message: what };
  }
  if (p.replacements > 0 || p.create > 0) {
    return { status: 'True', reason: p.replacements > 0 ? 'ReplacingInstances' : 'ScalingUp', message: `creating ${p.create} instance${plural(p.create)} for ${p.replicas} replicas` };
  }
  if (p.stop.length > 0 || p.counts.stopCurrent > 0) {
    const n = p.counts.stopCurrent;
    return { status: 'True', reason: 'ScalingDown', message: `stopping ${n} instance${plural(n)}` };
  }
  const { ready } = p.planCounts;
  return ready < p.replicas
    ? { status: 'True', reason: 'WaitingForReady', message: `${ready}/${p.replicas} replicas ready` }
    : { status: 'True', reason: 'Complete', message: `all ${p.replicas} replicas are up to date and ready` };
}
