// A Service's status as a pure function of the controller's counts, its last step and the rollout.
import { isUnboundPending, setCondition, type Condition, type Instance, type RolloutStatus, type Service, type ServiceStatus } from '../../core/index.js';
import { isStopping } from '../shared/instance-stop.js';
import { desiredReplicas, type PlanCounts, type Progress } from './service-plan.js';

export interface StatusInput {
  service: Service;
  /** The instances after this pass's writes (stopping ones are ignored). */
  instances: readonly Instance[];
  counts: PlanCounts;
  progress: Progress;
  version?: number | undefined;
  rollout?: RolloutStatus | undefined;
  now: string;
}

/** The rollout's word on Progressing, when it has one (paused, failed, rolled back). */
function rolloutProgress(rollout: RolloutStatus | undefined, name: string): Omit<Condition, 'type'> | undefined {
  switch (rollout?.phase) {
    case 'Failed':
      return { status: 'False', reason: 'ProgressDeadlineExceeded', message: rollout.message ?? '' };
    case 'RolledBack':
      return { status: 'False', reason: 'RolledBack', message: rollout.message ?? '' };
    case 'Paused':
      return { status: 'Unknown', reason: 'RolloutPaused', message: `${rollout.message ?? 'rollout paused'}; resume with: gantry rollout resume service ${name}` };
    case 'CanaryPaused':
      return { status: 'Unknown', reason: 'CanaryWaiting', message: `${rollout.message ?? 'canary waiting'}; continue with: gantry rollout promote service ${name}` };
    default:
      return undefined;
  }
}

export function serviceStatus(input: StatusInput): ServiceStatus {
  const { service, counts, now } = input;
  const replicas = desiredReplicas(service);
  const ready = counts.ready;
  let conditions = service.status?.conditions ?? [];
  conditions = setCondition(
    conditions,
    ready >= replicas
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${ready}/${replicas} replicas ready` }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: `${ready}/${replicas} replicas ready` },
    now,
  );
  const fromRollout = rolloutProgress(input.rollout, service.metadata.name);
  conditions = setCondition(conditions, { type: 'Progressing', ...(fromRollout ?? input.progress) }, now);
  const unschedulable = input.instances.filter((i) => !isStopping(i) && isUnboundPending(i) && i.status?.reason === 'Unschedulable');
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
    replicas: counts.live,
    readyReplicas: ready,
    ...(service.metadata.generation !== undefined ? { observedGeneration: service.metadata.generation } : {}),
    conditions,
    ...(input.version !== undefined ? { version: input.version } : {}),
    updatedReplicas: counts.updated,
    availableReplicas: counts.available,
    ...(input.rollout ? { rollout: input.rollout } : {}),
  };
}

/** Field by field: runs on every reconcile, where serializing both sides showed in profiles. */
export function sameStatus(a: ServiceStatus | undefined, b: ServiceStatus): boolean {
  if (a === undefined) return false;
  if (a.replicas !== b.replicas || a.readyReplicas !== b.readyReplicas || a.observedGeneration !== b.observedGeneration) return false;
  if (a.version !== b.version || a.updatedReplicas !== b.updatedReplicas || a.availableReplicas !== b.availableReplicas) return false;
  if (!sameRollout(a.rollout, b.rollout)) return false;
  if (a.conditions.length !== b.conditions.length) return false;
  return a.conditions.every((c, i) => sameCondition(c, b.conditions[i]!));
}

function sameRollout(a: RolloutStatus | undefined, b: RolloutStatus | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.phase === b.phase &&
    a.version === b.version &&
    a.fromVersion === b.fromVersion &&
    a.startedAt === b.startedAt &&
    a.progressAt === b.progressAt &&
    a.promoted === b.promoted &&
    a.message === b.message &&
    a.availableUpdated === b.availableUpdated
  );
}

function sameCondition(a: Condition, b: Condition): boolean {
  return a.type === b.type && a.status === b.status && a.reason === b.reason && a.message === b.message && a.lastTransitionTime === b.lastTransitionTime;
}
