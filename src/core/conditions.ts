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
