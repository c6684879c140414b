// The end-of-run check: recount every node's usage from the placements alone and hold it against
// the scheduler's own limit, so a fast but wrong scheduler cannot pass. Also reports how well
// replicas were spread, which is best effort beyond the candidate sample and so not a violation.
import { resourceLimit } from '../../src/scheduler/index.js';
import type { PlacementFailure, PlacementRequest } from '../../src/scheduler/index.js';
import type { BenchCluster } from './bench-cluster.js';

export interface PlacementCheck {
  /** One line per problem; empty when the run is correct. */
  violations: string[];
  /** Worst (most − fewest) replicas of one service across the values of its spread key; null without spread. */
  spreadSkewMax: number | null;
  /** Replicas sharing a node with another replica of their service. */
  sharedNodeReplicas: number;
}

/** At most this many lines per kind of violation, so a broken run stays readable. */
const MAX_LINES = 10;

export function verifyPlacements(
  cluster: BenchCluster,
  requests: readonly PlacementRequest[],
  failures: readonly PlacementFailure[],
): PlacementCheck {
  const violations: string[] = [...cluster.applyErrors.slice(0, MAX_LINES)];
  const add = (line: string): void => {
    violations.push(line);
  };
  checkCapacity(cluster, add);
  checkEachDecidedOnce(cluster, requests, failures, add);
  checkConstraints(cluster, add);
  return { violations, ...spreadQuality(cluster) };
}

function checkCapacity(cluster: BenchCluster, add: (line: string) => void): void {
  const recount = cluster.baseline.map((b) => ({ ...b }));
  for (const { request, nodeIndex } of cluster.applied) {
    const r = recount[nodeIndex];
    if (!r) continue;
    r.cpu += request.resources.cpu;
    r.memory += request.resources.memory;
  }
  let lines = 0;
  cluster.nodes.forEach((node, i) => {
    const used = recount[i] ?? { cpu: 0, memory: 0 };
    const limit = resourceLimit(node);
    const problems: string[] = [];
    if (used.cpu > limit.cpu) problems.push(`cpu ${used.cpu}m over its limit ${limit.cpu}m`);
    if (used.memory > limit.memory) problems.push(`memory ${used.memory} B over its limit ${limit.memory} B`);
    if (used.cpu !== node.used.cpu || used.memory !== node.used.memory) {
      problems.push(`bench bookkeeping drifted: applied ${node.used.cpu}m/${node.used.memory} B, recount ${used.cpu}m/${used.memory} B`);
    }
    if (problems.length > 0 && lines++ < MAX_LINES) add(`node ${node.name}: ${problems.join(', ')}`);
  });
  if (lines > MAX_LINES) add(`... and ${lines - MAX_LINES} more nodes with the same kind of problem`);
}

function checkEachDecidedOnce(
  cluster: BenchCluster,
  requests: readonly PlacementRequest[],
  failures: readonly PlacementFailure[],
  add: (line: string) => void,
): void {
  const seen = new Map<string, number>();
  for (const { request } of cluster.applied) seen.set(request.id, (seen.get(request.id) ?? 0) + 1);
  for (const f of failures) seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
  let lines = 0;
  for (const r of requests) {
    const n = seen.get(r.id) ?? 0;
    if (n !== 1 && lines++ < MAX_LINES) add(`request ${r.id} decided ${n} times, want exactly once`);
  }
  if (seen.size !== requests.length) add(`plans named ${seen.size} request ids for ${requests.length} requests`);
}

/** Only `key=value` constraints, the one form the synthetic workload uses. */
function checkConstraints(cluster: BenchCluster, add: (line: string) => void): void {
  let lines = 0;
  for (const { request, nodeIndex } of cluster.applied) {
    const node = cluster.nodes[nodeIndex];
    if (!node) continue;
    for (const c of request.constraints) {
      const [key, value] = c.split('=', 2);
      if (key === undefined || value === undefined || node.labels[key] === value) continue;
      if (lines++ < MAX_LINES) add(`${request.id} on ${node.name} breaks constraint ${c} (node has ${key}=${node.labels[key] ?? 'nothing'})`);
    }
  }
}

function spreadQuality(cluster: BenchCluster): Pick<PlacementCheck, 'spreadSkewMax' | 'sharedNodeReplicas'> {
  // service -> spread key -> value -> count; plus service -> node -> count.
  const bySpread = new Map<string, Map<string, Map<string, number>>>();
  const byNode = new Map<string, Map<number, number>>();
  for (const { request, nodeIndex } of cluster.applied) {
    const node = cluster.nodes[nodeIndex];
    if (!node) continue;
    let perNode = byNode.get(request.serviceKey);
    if (!perNode) byNode.set(request.serviceKey, (perNode = new Map<number, number>()));
    perNode.set(nodeIndex, (perNode.get(nodeIndex) ?? 0) + 1);
    for (const key of request.spread) {
      let perKey = bySpread.get(request.serviceKey);
      if (!perKey) bySpread.set(request.serviceKey, (perKey = new Map<string, Map<string, number>>()));
      let counts = perKey.get(key);
      if (!counts) perKey.set(key, (counts = new Map<string, number>()));
      const v = node.labels[key] ?? '';
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  let sharedNodeReplicas = 0;
  for (const perNode of byNode.values()) for (const n of perNode.values()) if (n > 1) sharedNodeReplicas += n;
  if (bySpread.size === 0) return { spreadSkewMax: null, sharedNodeReplicas };
  // Values a service could use: every value of the key on a node (values with zero count included).
  const valuesOf = new Map<string, Set<string>>();
  let skewMax = 0;
  for (const perKey of bySpread.values()) {
    for (const [key, counts] of perKey) {
      let values = valuesOf.get(key);
      if (!values) valuesOf.set(key, (values = new Set(cluster.nodes.map((n) => n.labels[key] ?? ''))));
      let min = Infinity;
      let max = 0;
      for (const v of values) {
        const c = counts.get(v) ?? 0;
        min = Math.min(min, c);
        max = Math.max(max, c);
      }
      skewMax = Math.max(skewMax, max - (Number.isFinite(min) ? min : 0));
    }
  }
  return { spreadSkewMax: skewMax, sharedNodeReplicas };
}
