// The one set of object builders for every layer's tests, so a test reads like the behaviour it
// checks: `aService('web', { replicas: 3 })`, `aNode('n1', { labels: { rack: 'a' } })`,
// `anInstance('web-a1b2c', { node: 'n1' })`. Each takes a name and partial overrides. Services
// and nodes come as a user would apply them (no uid or revision: a revision would be a
// compare-and-swap); instances as stored (the service controller creates them, with a uid);
// `stored()` adds the server's metadata to the others. Depends only on core; left out of dist/
// by tsconfig.build.json.
import { DEFAULT_NAMESPACE } from './kinds.js';
import { API_VERSION } from './schema.js';
import type {
  AnyObject,
  ContainerSpec,
  GantryNode,
  Instance,
  InstanceSpec,
  InstanceStatus,
  Manifest,
  NodeSpec,
  NodeStatus,
  ServiceSpec,
  ServiceStatus,
  Service,
  StoredMeta,
} from './schema.js';

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;
/** createdAt of what `stored()` and `anInstance()` make, unless overridden. */
export const TEST_CREATED_AT = '2025-01-01T00:00:00.000Z';

export interface ServiceOverrides {
  namespace?: string;
  labels?: Record<string, string>;
  generation?: number;
  replicas?: number;
  /** Of the one container `main` (ignored when `containers` is given). */
  image?: string;
  /** Cores, or a quantity like `250m`. */
  cpu?: number | string;
  memory?: string;
  constraints?: string[];
  containers?: ContainerSpec[];
  /** Any other spec field. */
  spec?: Partial<ServiceSpec>;
  status?: ServiceStatus;
}

export function aService(name = 'web', o: ServiceOverrides = {}): Manifest<Service> {
  const resources = o.cpu !== undefined || o.memory !== undefined ? { resources: { ...(o.cpu !== undefined ? { cpu: o.cpu } : {}), ...(o.memory !== undefined ? { memory: o.memory } : {}) } } : {};
  const spec = {
    replicas: o.replicas ?? 1,
    containers: o.containers ?? [{ name: 'main', image: o.image ?? 'busybox:1.36', ...resources }],
    ...(o.constraints ? { placement: { constraints: o.constraints } } : {}),
    ...o.spec,
  } as ServiceSpec;
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? DEFAULT_NAMESPACE, ...(o.labels ? { labels: o.labels } : {}), ...(o.generation !== undefined ? { generation: o.generation } : {}) },
    spec,
    ...(o.status ? { status: o.status } : {}),
  };
}

export interface NodeOverrides {
  labels?: Record<string, string>;
  spec?: NodeSpec;
  /** Cores (status.capacity.cpu is in millicores). */
  cpu?: number;
  /** Bytes. */
  memory?: number;
  ready?: boolean;
  lastHeartbeat?: string;
  driver?: string;
  /** Any other status field. */
  status?: Partial<NodeStatus>;
}

/**
 * A Node as registered. It has a status (ready, 4 cores, 8 GiB, driver fake, unless overridden)
 * only when an override asks for one: cpu, memory, ready, lastHeartbeat, driver or status.
 */
export function aNode(name = 'n1', o: NodeOverrides = {}): Manifest<GantryNode> {
  const withStatus = [o.cpu, o.memory, o.ready, o.lastHeartbeat, o.driver, o.status].some((v) => v !== undefined);
  const status: NodeStatus = {
    ready: o.ready ?? true,
    capacity: { cpu: (o.cpu ?? 4) * 1000, memory: o.memory ?? 8 * GiB },
    driver: o.driver ?? 'fake',
    conditions: [],
    ...(o.lastHeartbeat ? { lastHeartbeat: o.lastHeartbeat } : {}),
    ...o.status,
  };
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
    spec: o.spec ?? { address: '127.0.0.1' },
    ...(withStatus ? { status } : {}),
  };
}

export interface InstanceOverrides {
  namespace?: string;
  uid?: string;
  service?: string;
  /** Bound to this node; unbound when absent. */
  node?: string;
  containers?: ContainerSpec[];
  /** Millicores. */
  cpu?: number;
  /** Bytes. */
  memory?: number;
  /** Any other spec field. */
  spec?: Partial<InstanceSpec>;
  status?: InstanceStatus;
  /** TEST_CREATED_AT unless given. */
  createdAt?: string;
}

/** An Instance as stored: labelled with its service, a random uid unless given, status Pending. */
export function anInstance(name = 'web-a1b2c', o: InstanceOverrides = {}): Instance {
  const service = o.service ?? 'web';
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: { name, namespace: o.namespace ?? DEFAULT_NAMESPACE, uid: o.uid ?? crypto.randomUUID(), revision: 1, createdAt: o.createdAt ?? TEST_CREATED_AT, labels: { 'gantry.io/service': service } },
    spec: {
      service,
      ...(o.node !== undefined ? { node: o.node } : {}),
      containers: o.containers ?? [{ name: 'main', image: 'busybox:1.36' }],
      restartPolicy: 'Always',
      resources: { cpu: o.cpu ?? 100, memory: o.memory ?? 128 * MiB },
      templateHash: 'abc',
      ...o.spec,
    },
    status: o.status ?? { phase: 'Pending', ready: false, containers: [] },
  };
}

/** The object as the server stores it: uid `uid-<name>`, revision 1, createdAt TEST_CREATED_AT unless given. */
export function stored<O extends AnyObject>(obj: Manifest<O>, meta: Partial<StoredMeta> = {}): O {
  return { ...obj, metadata: { uid: `uid-${obj.metadata.name}`, revision: 1, createdAt: TEST_CREATED_AT, ...obj.metadata, ...meta } } as unknown as O;
}
