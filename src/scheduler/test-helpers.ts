// Builders for scheduler tests: `aNode({ cpu: 2000, memory: GiB })`, `aRequest({ memory: 512 * MiB })`.
// Left out of the build (tsconfig.build.json).
import { API_VERSION, DEFAULT_NAMESPACE, type ContainerSpec, type GantryNode, type Instance, type InstancePhase } from '../core/index.js';
import type { NodeSnapshot, PlacementRequest } from './types.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export interface NodeOptions {
  name?: string;
  /** Millicores. */
  cpu?: number;
  /** Bytes. */
  memory?: number;
  labels?: Record<string, string>;
  ready?: boolean;
  unschedulable?: boolean;
  overcommit?: { cpu?: number; memory?: number };
  reserved?: { cpu?: number; memory?: number };
  used?: { cpu?: number; memory?: number };
  hostPorts?: string[];
  serviceCounts?: Record<string, number>;
}

export function aNode(o: NodeOptions = {}): NodeSnapshot {
  return {
    name: o.name ?? 'n1',
    labels: o.labels ?? {},
    ready: o.ready ?? true,
    unschedulable: o.unschedulable ?? false,
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

const META = { uid: 'u', revision: 1, createdAt: '2024-01-01T00:00:00Z' };

export function aGantryNode(o: {
  name?: string;
  cpu?: number;
  memory?: number;
  labels?: Record<string, string>;
  ready?: boolean;
  spec?: GantryNode['spec'];
  noStatus?: boolean;
} = {}): GantryNode {
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { ...META, name: o.name ?? 'n1', ...(o.labels ? { labels: o.labels } : {}) },
    spec: o.spec ?? {},
    ...(o.noStatus
      ? {}
      : {
          status: {
            ready: o.ready ?? true,
            capacity: { cpu: o.cpu ?? 4000, memory: o.memory ?? 8 * GiB },
            driver: 'fake',
            conditions: [],
          },
        }),
  };
}

export function anInstance(o: {
  name?: string;
  namespace?: string;
  service?: string;
  node?: string;
  phase?: InstancePhase;
  cpu?: number;
  memory?: number;
  containers?: ContainerSpec[];
  placement?: Instance['spec']['placement'];
} = {}): Instance {
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: { ...META, name: o.name ?? 'web-abcde', namespace: o.namespace ?? DEFAULT_NAMESPACE },
    spec: {
      service: o.service ?? 'web',
      ...(o.node !== undefined ? { node: o.node } : {}),
      containers: o.containers ?? [{ name: 'main', image: 'busybox:1.36' }],
      restartPolicy: 'Always',
      ...(o.placement ? { placement: o.placement } : {}),
      resources: { cpu: o.cpu ?? 100, memory: o.memory ?? 128 * MiB },
      templateHash: 'h',
    },
    status: { phase: o.phase ?? 'Running', ready: true, containers: [] },
  };
}
