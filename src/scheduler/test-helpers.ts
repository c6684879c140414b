// Builders of the scheduler's own inputs: `aNodeSnapshot({ cpu: 2000, memory: GiB })`,
// `aRequest({ memory: 512 * MiB })`. Objects (Node, Instance) come from core/test-builders.ts.
// Left out of the build (tsconfig.build.json).
import type { NodeSnapshot, PlacementRequest } from './types.js';

export { GiB, MiB } from '../core/test-builders.js';
import { GiB, MiB } from '../core/test-builders.js';

export interface NodeOptions {
  name?: string;
  /** Millicores. */
  cpu?: number;
  /** Bytes. */
  memory?: number;
  labels?: Record<string, string>;
  ready?: boolean;
  unschedulable?: boolean;
  pressures?: string[];
  overcommit?: { cpu?: number; memory?: number };
  reserved?: { cpu?: number; memory?: number };
  used?: { cpu?: number; memory?: number };
  hostPorts?: string[];
  serviceCounts?: Record<string, number>;
}

/** The scheduler's view of a node (a NodeSnapshot, not a Node object: see core/test-builders.ts). */
export function aNodeSnapshot(o: NodeOptions = {}): NodeSnapshot {
  return {
    name: o.name ?? 'n1',
    labels: o.labels ?? {},
    ready: o.ready ?? true,
    unschedulable: o.unschedulable ?? false,
    pressures: o.pressures ?? [],
    capacity: { cpu: o.cpu ?? 4000, memory: o.memory ?? 8 * GiB },
    overcommit: { cpu: o.overcommit?.cpu ?? 1, memory: o.overcommit?.memory ?? 1 },
    reserved: { cpu: o.reserved?.cpu ?? 0, memory: o.reserved?.memory ?? 0 },
    used: { cpu: o.used?.cpu ?? 0, memory: o.used?.memory ?? 0 },
    hostPorts: new Set(o.hostPorts ?? []),
    serviceCounts: new Map(Object.entries(o.serviceCounts ?? {})),
  };
}

export interface RequestOptions {
  id?: string;
  service?: string;
  cpu?: number;
  memory?: number;
  hostPorts?: string[];
  constraints?: string[];
  spread?: string[];
  avoidNodes?: string[];
}

export function aRequest(o: RequestOptions = {}): PlacementRequest {
  return {
    id: o.id ?? 'default/web-abcde',
    serviceKey: `default/${o.service ?? 'web'}`,
    resources: { cpu: o.cpu ?? 100, memory: o.memory ?? 128 * MiB },
    hostPorts: o.hostPorts ?? [],
    constraints: o.constraints ?? [],
    spread: o.spread ?? [],
    ...(o.avoidNodes ? { avoidNodes: o.avoidNodes } : {}),
  };
}

/** `count` requests for replicas of one service: ids `default/<service>-0`, `-1`, ... */
export function replicas(count: number, o: RequestOptions = {}): PlacementRequest[] {
  return Array.from({ length: count }, (_, i) => aRequest({ ...o, id: `default/${o.service ?? 'web'}-${i}` }));
}

