// The benchmark's stand-in for the store: node snapshots that placements are applied to between
// scheduling batches, as the scheduling controller's next snapshot would show them. Applying a
// plan costs O(placements), so it does not distort the measured scheduling rate.
import type { NodeSnapshot, Plan, PlacementRequest } from '../../src/scheduler/index.js';

/** A node snapshot the bench owns and updates in place. */
export interface BenchNode extends NodeSnapshot {
  used: { cpu: number; memory: number };
  hostPorts: Set<string>;
  serviceCounts: Map<string, number>;
}

/** One applied placement, kept so the end-of-run check can recompute usage independently. */
export interface AppliedPlacement {
  request: PlacementRequest;
  nodeIndex: number;
}

export class BenchCluster {
  private readonly indexByName = new Map<string, number>();
  readonly applied: AppliedPlacement[] = [];
  /** Problems seen while applying: a plan naming an unknown node or request, or a port clash. */
  readonly applyErrors: string[] = [];

  /** Each node's usage before the run, for the independent recount at the end. */
  readonly baseline: readonly { cpu: number; memory: number }[];

  constructor(readonly nodes: BenchNode[]) {
    nodes.forEach((n, i) => this.indexByName.set(n.name, i));
    this.baseline = nodes.map((n) => ({ ...n.used }));
  }

  /** Records `plan`'s placements on the nodes; `requests` are the ones the plan was made for. */
  apply(plan: Plan, requests: readonly PlacementRequest[]): void {
    const byId = new Map<string, PlacementRequest>();
    for (const r of requests) byId.set(r.id, r);
    for (const p of plan.placements) {
      const index = this.indexByName.get(p.node);
      const req = byId.get(p.id);
      const node = index === undefined ? undefined : this.nodes[index];
      if (index === undefined || node === undefined || req === undefined) {
        this.applyErrors.push(`placement of ${p.id} on ${p.node}: unknown request or node`);
        continue;
      }
      node.used.cpu += req.resources.cpu;
      node.used.memory += req.resources.memory;
      for (const port of req.hostPorts) {
        if (node.hostPorts.has(port)) this.applyErrors.push(`${p.id} on ${p.node}: host port ${port} already taken`);
        node.hostPorts.add(port);
      }
      node.serviceCounts.set(req.serviceKey, (node.serviceCounts.get(req.serviceKey) ?? 0) + 1);
      this.applied.push({ request: req, nodeIndex: index });
    }
  }
}
