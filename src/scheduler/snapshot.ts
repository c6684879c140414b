// From stored objects to the scheduler's inputs: a node with what is already placed on it, and
// an instance as a placement request. Pure functions of the objects given.
import { isTerminal, namespaceOf, nodePressures, parseCpu, parseMemory } from '../core/index.js';
import type { ContainerSpec, GantryNode, Instance } from '../core/index.js';
import type { NodeSnapshot, PlacementRequest } from './types.js';

export function serviceKeyOf(instance: Instance): string {
  return `${namespaceOf(instance)}/${instance.spec.service}`;
}

/** Host ports an instance's containers bind, as `8080/tcp`. */
export function hostPortsOf(containers: readonly ContainerSpec[]): string[] {
  const out: string[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.hostPort !== undefined) out.push(`${p.hostPort}/${p.protocol ?? 'tcp'}`);
    }
  }
  return out;
}

/**
 * True when `instance` is bound to a node and still holds resources there: bound and not terminal
 * (core's isTerminal: Succeeded or Failed). Deliberately not core's isFinished, which also counts
 * Lost: a Lost instance never runs again for its owner, but its node only fell silent, so its
 * containers may still be running there, holding CPU, memory and host ports. While its object
 * remains (an onNodeReturn KeepOriginal original is kept up to an hour, to be revived when the
 * node comes back) it is charged to the node, so the returning node is not overfilled.
 */
export function holdsResources(instance: Instance): boolean {
  return instance.spec.node !== undefined && !isTerminal(instance);
}

/** What the instances on a node take from it, as NodeSnapshot carries it. */
export interface NodeUsage {
  used: { cpu: number; memory: number; cores?: number | undefined };
  hostPorts: ReadonlySet<string>;
  serviceCounts: ReadonlyMap<string, number>;
}

/**
 * The scheduler's view of `node`: its limits and what the given instances already use on it.
 * `instances` may hold instances of other nodes; only those bound to this node count.
 */
export function buildNodeSnapshot(node: GantryNode, instances: readonly Instance[]): NodeSnapshot {
  const name = node.metadata.name;
  const used: NodeUsage['used'] = { cpu: 0, memory: 0 };
  const hostPorts = new Set<string>();
  const serviceCounts = new Map<string, number>();
  for (const inst of instances) {
    if (inst.spec.node !== name || !holdsResources(inst)) continue;
    used.cpu += inst.spec.resources.cpu;
    used.memory += inst.spec.resources.memory;
    if (inst.spec.resources.cores) used.cores = (used.cores ?? 0) + inst.spec.resources.cores;
    for (const p of hostPortsOf(inst.spec.containers)) hostPorts.add(p);
    const key = serviceKeyOf(inst);
    serviceCounts.set(key, (serviceCounts.get(key) ?? 0) + 1);
  }
  return nodeSnapshotOf(node, { used, hostPorts, serviceCounts });
}

/** The snapshot of `node` with `usage` already worked out (by a caller that keeps it current). */
export function nodeSnapshotOf(node: GantryNode, usage: NodeUsage): NodeSnapshot {
  const spec = node.spec;
  return {
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    ready: node.status?.ready === true,
    // A draining node is cordoned as well (the API sets both); either alone keeps new work away.
    unschedulable: spec.unschedulable === true || spec.draining === true,
    pressures: nodePressures(node.status?.conditions),
    capacity: { cpu: node.status?.capacity.cpu ?? 0, memory: node.status?.capacity.memory ?? 0 },
    ...(node.status?.cpuset ? { cores: node.status.cpuset.allocatable } : {}),
    overcommit: { cpu: spec.overcommit?.cpu ?? 1, memory: spec.overcommit?.memory ?? 1 },
    reserved: {
      cpu: spec.reserved?.cpu !== undefined ? (parseCpu(spec.reserved.cpu) ?? 0) : 0,
      memory: spec.reserved?.memory !== undefined ? (parseMemory(spec.reserved.memory) ?? 0) : 0,
    },
    used: usage.used,
    hostPorts: usage.hostPorts,
    serviceCounts: usage.serviceCounts,
  };
}

/**
 * Snapshots of every node in one pass over the instances (grouped by `spec.node`), for callers
 * holding the whole cluster: calling buildNodeSnapshot per node would scan all instances N times.
 */
export function buildNodeSnapshots(nodes: readonly GantryNode[], instances: readonly Instance[]): NodeSnapshot[] {
  const byNode = new Map<string, Instance[]>();
  for (const inst of instances) {
    const n = inst.spec.node;
    if (n === undefined) continue;
    let list = byNode.get(n);
    if (!list) {
      list = [];
      byNode.set(n, list);
    }
    list.push(inst);
  }
  return nodes.map((node) => buildNodeSnapshot(node, byNode.get(node.metadata.name) ?? []));
}

export function placementRequestFor(instance: Instance): PlacementRequest {
  const spec = instance.spec;
  return {
    id: `${namespaceOf(instance)}/${instance.metadata.name}`,
    serviceKey: serviceKeyOf(instance),
    resources: spec.resources.cores ? { cpu: spec.resources.cpu, memory: spec.resources.memory, cores: spec.resources.cores } : { cpu: spec.resources.cpu, memory: spec.resources.memory },
    hostPorts: hostPortsOf(spec.containers),
    constraints: spec.placement?.constraints ?? [],
    spread: spec.placement?.spread ?? [],
    ...(spec.avoidNodes && spec.avoidNodes.length > 0 ? { avoidNodes: spec.avoidNodes } : {}),
  };
}
