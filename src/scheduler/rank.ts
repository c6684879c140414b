// Stage 2, ranking: a score for a feasible node; higher is better. Four terms, each far larger
// than the one after it, so they act in order rather than trade off against each other:
//   0. avoidance: a node in the request's avoidNodes (its predecessors crash-looped there) loses
//      to any other feasible node, but is still taken when it is the only one (a soft rule);
//   1. spread: instances of the service already in the node's rack/zone (per `spread` key);
//   2. anti-affinity: instances of the service already on the node itself;
//   3. fit: bin-pack prefers fuller nodes, spread strategy prefers emptier ones (0..1).
// Spread outweighs anti-affinity so per-rack counts stay within one of each other even when the
// only node of the emptiest rack already holds a replica.
import { resourceLimit } from './feasible.js';
import type { NodeSnapshot, PlacementRequest, ScheduleOptions } from './types.js';

export const SPREAD_PENALTY = 1_000_000;
export const ANTI_AFFINITY_PENALTY = 100;
/** Larger than any spread penalty (100,000 replicas x SPREAD_PENALTY is 1e11 per spread key). */
export const AVOID_PENALTY = 1e13;

/** The label value a node is counted under for a spread key; nodes without the label share one. */
export const MISSING_LABEL = '\u0000';

export function spreadValue(node: NodeSnapshot, key: string): string {
  return node.labels[key] ?? MISSING_LABEL;
}

/** How full the node would be after placing `req`: the mean of the cpu and memory fractions. */
export function fillAfter(node: NodeSnapshot, req: PlacementRequest): number {
  const limit = resourceLimit(node);
  const cpu = fraction(node.used.cpu + req.resources.cpu, limit.cpu);
  const memory = fraction(node.used.memory + req.resources.memory, limit.memory);
  return (cpu + memory) / 2;
}

function fraction(used: number, limit: number): number {
  if (limit <= 0) return 1;
  return Math.min(1, Math.max(0, used / limit));
}

/**
 * Scores `node` for `req`. `spreadCounts[i]` holds, for `req.spread[i]`, how many instances of
 * the service sit on nodes with each label value (placements earlier in the plan included).
 */
export function scoreNode(
  node: NodeSnapshot,
  req: PlacementRequest,
  strategy: ScheduleOptions['strategy'],
  spreadCounts: readonly ReadonlyMap<string, number>[],
): number {
  const fill = fillAfter(node, req);
  let score = strategy === 'spread' ? 1 - fill : fill;
  score -= ANTI_AFFINITY_PENALTY * (node.serviceCounts.get(req.serviceKey) ?? 0);
  if (req.avoidNodes?.includes(node.name)) score -= AVOID_PENALTY;
  for (let i = 0; i < req.spread.length; i++) {
    const key = req.spread[i];
    const counts = spreadCounts[i];
    if (key === undefined || counts === undefined) continue;
    score -= SPREAD_PENALTY * (counts.get(spreadValue(node, key)) ?? 0);
  }
  return score;
}
