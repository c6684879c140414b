// Stage 4, plan: places requests in order. Each decision walks a bounded random sample of nodes
// (limit), keeps the feasible ones (feasible) and picks the best score (rank); the placement is
// then recorded in the plan's working copy so the next request sees it.
import { feasibilityCheck, resourceLimit } from './feasible.js';
import { candidateLimit, CandidateWalk } from './limit.js';
import { SeededRandom } from './random.js';
import { scoreNode } from './rank.js';
import { ReasonTally } from './reason-tally.js';
import type { NodeSnapshot, Placement, PlacementFailure, PlacementRequest, Plan, ScheduleOptions } from './types.js';
import { WorkingNodes } from './working-nodes.js';

export function schedule(
  nodes: NodeSnapshot[],
  requests: PlacementRequest[],
  opts: ScheduleOptions,
  revision: number,
): Plan {
  const spreadServices = new Set<string>();
  for (const req of requests) if (req.spread.length > 0) spreadServices.add(req.serviceKey);
  const working = new WorkingNodes(nodes, spreadServices);
  // Only nodes that could take the plan's smallest request are walked, and a node leaves the walk
  // once it cannot: a full cluster costs a decision no more than an empty one.
  const smallest = smallestRequest(requests);
  const room = (node: NodeSnapshot): boolean => hasRoom(node, smallest);
  const candidates: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (room(nodes[i]!)) candidates.push(i);
  const walk = new CandidateWalk(nodes.length, new SeededRandom(opts.seed), candidates);
  const placements: Placement[] = [];
  const failures: PlacementFailure[] = [];
  // A request that failed fails again, for the same reason, for a same-shaped request while
  // nothing was placed since: replicas of a service that does not fit cost one full pass, not one each.
  let lastFailure: { shape: string; placed: number; reason: string } | undefined;
  for (const req of requests) {
    const shape = shapeOf(req);
    if (lastFailure && lastFailure.shape === shape && lastFailure.placed === placements.length) {
      failures.push({ id: req.id, reason: lastFailure.reason });
      continue;
    }
    const outcome = decide(working, walk, req, opts);
    if (typeof outcome === 'string') {
      failures.push({ id: req.id, reason: outcome });
      lastFailure = { shape, placed: placements.length, reason: outcome };
      continue;
    }
    working.place(outcome.index, req);
    if (!room(working.node(outcome.index))) walk.remove(outcome.index);
    placements.push({ id: req.id, node: working.node(outcome.index).name, score: outcome.score });
  }
  return { revision, placements, failures };
}

/** What decides whether a request fits anywhere (not its id, spread or avoided nodes: they only rank). */
function shapeOf(req: PlacementRequest): string {
  return `${req.resources.cpu}/${req.resources.memory}/${req.hostPorts.join(',')}/${req.constraints.join(',')}`;
}

/** The least cpu and the least memory any of `requests` asks for (each on its own). */
function smallestRequest(requests: readonly PlacementRequest[]): { cpu: number; memory: number } {
  let cpu = Infinity;
  let memory = Infinity;
  for (const r of requests) {
    if (r.resources.cpu < cpu) cpu = r.resources.cpu;
    if (r.resources.memory < memory) memory = r.resources.memory;
  }
  return { cpu: cpu === Infinity ? 0 : cpu, memory: memory === Infinity ? 0 : memory };
}

/** Whether `node` could take a request of `size` at all: schedulable, and resources left for it. */
function hasRoom(node: NodeSnapshot, size: { cpu: number; memory: number }): boolean {
  if (!node.ready || node.unschedulable || node.pressures.length > 0) return false;
  const limit = resourceLimit(node);
  return node.used.cpu + size.cpu <= limit.cpu && node.used.memory + size.memory <= limit.memory;
}

/** The best node for `req` as an index and score, or the failure reason. */
function decide(
  working: WorkingNodes,
  walk: CandidateWalk,
  req: PlacementRequest,
  opts: ScheduleOptions,
): { index: number; score: number } | string {
  const check = feasibilityCheck(req);
  const spreadCounts = req.spread.map((key) => working.spreadCounts(req.serviceKey, key));
  const want = candidateLimit(working.size, opts.sampleSize, req.spread.length > 0);
  let bestIndex = -1;
  let bestScore = -Infinity;
  // Reasons matter only if nothing fits, and then the walk has examined every node.
  let tally: ReasonTally | undefined;
  walk.walk(want, (index) => {
    const node = working.node(index);
    const reason = check(node);
    if (reason !== undefined) {
      if (bestIndex < 0) (tally ??= new ReasonTally()).add(reason);
      return false;
    }
    const score = scoreNode(node, req, opts.strategy, spreadCounts);
    if (bestIndex < 0 || score > bestScore) {
      bestIndex = index;
      bestScore = score;
    }
    return true;
  });
  if (bestIndex < 0) {
    // Nothing fits: the walk skipped nodes without room, so judge every node for an exact reason.
    if (walk.size < working.size || !tally) {
      tally = new ReasonTally();
      for (let i = 0; i < working.size; i++) {
        const reason = check(working.node(i));
        if (reason !== undefined) tally.add(reason);
      }
    }
    return tally.format(working.size);
  }
  return { index: bestIndex, score: bestScore };
}
