// Stage 4, plan: places requests in order. Each decision walks a bounded random sample of nodes
// (limit), keeps the feasible ones (feasible) and picks the best score (rank); the placement is
// then recorded in the plan's working copy so the next request sees it.
import { feasibilityCheck } from './feasible.js';
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
  const walk = new CandidateWalk(nodes.length, new SeededRandom(opts.seed));
  const placements: Placement[] = [];
  const failures: PlacementFailure[] = [];
  for (const req of requests) {
    const outcome = decide(working, walk, req, opts);
    if (typeof outcome === 'string') {
      failures.push({ id: req.id, reason: outcome });
      continue;
    }
    working.place(outcome.index, req);
    placements.push({ id: req.id, node: working.node(outcome.index).name, score: outcome.score });
  }
  return { revision, placements, failures };
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
  if (bestIndex < 0) return (tally ?? new ReasonTally()).format(working.size);
  return { index: bestIndex, score: bestScore };
}
