// The service controller's decision, as a pure function of what it read: how many instances to
// create and which to delete. Finished instances (Failed, Lost, Succeeded) are replaced, but only
// when the per-service backoff allows, so a crash-looping image cannot turn into a tight
// create/destroy loop (which the source material's teams saw lock up host kernels).
import type { Instance, Service } from '../core/index.js';
import { isFinished, isLive, isReady } from './instance-phase.js';
import { rollingStep } from './rolling-update.js';
import { scaleDownOrder } from './scale-down-order.js';

export interface Progress {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface ServicePlan {
  create: number;
  remove: Instance[];
  /** How many of `create` replace finished instances (the backoff counts these). */
  replacements: number;
  /** Finished instances kept until the backoff allows replacing them. */
  heldBack: Instance[];
  progress: Progress;
}

export function desiredReplicas(service: Service): number {
  return service.spec.replicas ?? 1;
}

/**
 * @param replaceAllowed false while the service's replacement backoff runs
 * @param nextReplaceAt for the message only; a fixed time, so the status does not change every pass
 */
export function planService(
  service: Service,
  instances: readonly Instance[],
  templateHash: string,
  replaceAllowed: boolean,
  nextReplaceAt = '',
): ServicePlan {
  const replicas = desiredReplicas(service);
  const live = instances.filter(isLive);
  const finished = instances.filter(isFinished);
  const missing = replicas - live.length;

  if (missing > 0) {
    const replacing = Math.min(missing, finished.length);
    if (replacing > 0 && !replaceAllowed) {
      // Keep the failed ones visible (their message says why) until the backoff ends.
      const heldBack = finished.slice(0, replacing);
      const first = heldBack[0];
      const why = first?.status?.message ? `: ${first.status.message}` : '';
      return {
        create: missing - replacing,
        remove: finished.slice(replacing),
        replacements: 0,
        heldBack,
        progress: {
          status: 'False',
          reason: 'BackOff',
          message: `instance ${first?.metadata.name ?? '?'} is ${first?.status?.phase ?? 'Failed'}${why}; next replacement at ${nextReplaceAt}`,
        },
      };
    }
    return {
      create: missing,
      remove: finished,
      replacements: replacing,
      heldBack: [],
      progress: {
        status: 'True',
        reason: replacing > 0 ? 'ReplacingInstances' : 'ScalingUp',
        message: `creating ${missing} instance${missing === 1 ? '' : 's'} for ${replicas} replicas`,
      },
    };
  }

  // Enough live instances: finished ones are only history now.
  const base = { remove: finished, replacements: 0, heldBack: [] as Instance[] };
  if (live.some((i) => i.spec.templateHash !== templateHash)) {
    const step = rollingStep(live, replicas, templateHash);
    const stale = live.filter((i) => i.spec.templateHash !== templateHash).length;
    return {
      ...base,
      create: step.create,
      remove: [...finished, ...step.remove],
      progress: {
        status: 'True',
        reason: 'RollingUpdate',
        message: `${stale} of ${live.length} instances run an old template${step.note ? `; ${step.note}` : ''}`,
      },
    };
  }
  if (missing < 0) {
    return {
      ...base,
      create: 0,
      remove: [...finished, ...scaleDownOrder(live).slice(0, -missing)],
      progress: { status: 'True', reason: 'ScalingDown', message: `removing ${-missing} instance${missing === -1 ? '' : 's'}` },
    };
  }
  const ready = live.filter(isReady).length;
  return {
    ...base,
    create: 0,
    progress:
      ready < replicas
        ? { status: 'True', reason: 'WaitingForReady', message: `${ready}/${replicas} replicas ready` }
        : { status: 'True', reason: 'Complete', message: `all ${replicas} replicas are up to date and ready` },
  };
}
