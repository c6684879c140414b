// A Service's status as a pure function of its instances and the controller's last step.
import { setCondition, type Condition, type Instance, type Service, type ServiceStatus } from '../core/index.js';
import { isLive, isReady, isUnboundPending } from './instance-phase.js';
import { desiredReplicas, type Progress } from './service-plan.js';

export function serviceStatus(service: Service, instances: readonly Instance[], progress: Progress, now: string): ServiceStatus {
  const replicas = desiredReplicas(service);
  const live = instances.filter(isLive);
  const ready = live.filter(isReady).length;
  let conditions = service.status?.conditions ?? [];
  conditions = setCondition(
    conditions,
    ready >= replicas
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${ready}/${replicas} replicas ready` }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: `${ready}/${replicas} replicas ready` },
    now,
  );
  conditions = setCondition(conditions, { type: 'Progressing', ...progress }, now);
  const unschedulable = live.filter((i) => isUnboundPending(i) && i.status?.reason === 'Unschedulable');
  const first = unschedulable[0];
  conditions = setCondition(
    conditions,
    first
      ? {
          type: 'Unschedulable',
          status: 'True',
          reason: 'NoNodeFits',
          message: `${unschedulable.length} instance${unschedulable.length === 1 ? '' : 's'} cannot be placed: ${first.status?.message ?? 'no node fits'}`,
        }
      : { type: 'Unschedulable', status: 'False', reason: 'Scheduled', message: 'every instance is placed or waiting to be' },
    now,
  );
  return {
    replicas: live.length,
    readyReplicas: ready,
    ...(service.metadata.generation !== undefined ? { observedGeneration: service.metadata.generation } : {}),
    conditions,
  };
}

/** Field by field: runs on every reconcile, where serializing both sides showed in profiles. */
export function sameStatus(a: ServiceStatus | undefined, b: ServiceStatus): boolean {
  if (a === undefined) return false;
  if (a.replicas !== b.replicas || a.readyReplicas !== b.readyReplicas || a.observedGeneration !== b.observedGeneration) return false;
  if (a.conditions.length !== b.conditions.length) return false;
  return a.conditions.every((c, i) => sameCondition(c, b.conditions[i]!));
}

function sameCondition(a: Condition, b: Condition): boolean {
  return a.type === b.type && a.status === b.status && a.reason === b.reason && a.message === b.message && a.lastTransitionTime === b.lastTransitionTime;
}
