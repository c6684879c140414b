// Conditions as in Kubernetes: set one by type, and keep its transition time while it holds.
import type { Condition } from './schema.js';

export function setCondition(conditions: readonly Condition[], next: Condition, now: string): Condition[] {
  const prev = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now;
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Node conditions that keep new instances off a node while True (the scheduler filters on them,
 * as Kubernetes' node pressure taints do). The agent sets them from its host readings.
 */
export const NODE_PRESSURES = ['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
export type NodePressure = (typeof NODE_PRESSURES)[number];

/** The pressures that hold on a node now, in NODE_PRESSURES order. */
export function nodePressures(conditions: readonly Condition[] | undefined): NodePressure[] {
  return NODE_PRESSURES.filter((type) => getCondition(conditions, type)?.status === 'True');
}
