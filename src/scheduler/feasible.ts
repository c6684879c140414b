// Stage 1, feasibility: can this node take this request at all? Returns a short reason when not,
// so a failed placement can say why ("0/12 nodes fit: 8 insufficient memory, ...").
import { constraintMatches, parseConstraint, type Constraint } from '../core/index.js';
import type { NodeSnapshot, PlacementRequest } from './types.js';

/** A feasibility test compiled for one request: constraints are parsed once, not per node. */
export type FeasibilityCheck = (node: NodeSnapshot) => string | undefined;

/** What may be placed on a node: capacity x overcommit - reserved, per resource. */
export function resourceLimit(node: NodeSnapshot): { cpu: number; memory: number } {
  return {
    cpu: node.capacity.cpu * node.overcommit.cpu - node.reserved.cpu,
    memory: node.capacity.memory * node.overcommit.memory - node.reserved.memory,
  };
}

const PRESSURE_REASON: Readonly<Record<string, string>> = { MemoryPressure: 'memory pressure', DiskPressure: 'disk pressure', PIDPressure: 'pid pressure' };

export function feasibilityCheck(req: PlacementRequest): FeasibilityCheck {
  const constraints: { text: string; parsed: Constraint | undefined }[] = req.constraints.map((text) => ({
    text,
    parsed: parseConstraint(text),
  }));
  const { cpu, memory } = req.resources;
  const cores = req.resources.cores ?? 0;
  const ports = req.hostPorts;
  return (node) => {
    if (!node.ready) return 'not ready';
    if (node.unschedulable) return 'unschedulable';
    // "disk pressure", as the reason tally counts it ("0/3 nodes fit: 2 disk pressure, ...").
    if (node.pressures.length > 0) return PRESSURE_REASON[node.pressures[0]!] ?? 'node pressure';
    for (const c of constraints) {
      // A constraint that does not parse matches no node: placing anyway would ignore the user.
      if (!c.parsed) return `invalid constraint ${c.text}`;
      if (!constraintMatches(c.parsed, node.labels)) return `constraint ${c.text}`;
    }
    if (node.used.cpu + cpu > node.capacity.cpu * node.overcommit.cpu - node.reserved.cpu) return 'insufficient cpu';
    if (node.used.memory + memory > node.capacity.memory * node.overcommit.memory - node.reserved.memory) {
      return 'insufficient memory';
    }
    if (cores > 0 && (node.used.cores ?? 0) + cores > (node.cores ?? 0)) return 'insufficient free cores';
    for (const p of ports) if (node.hostPorts.has(p)) return `host port ${p} in use`;
    return undefined;
  };
}

/** undefined when `req` fits on `node`, else a short reason such as 'insufficient cpu'. */
export function fits(node: NodeSnapshot, req: PlacementRequest): string | undefined {
  return feasibilityCheck(req)(node);
}
