// Builders and small helpers for the controllers' tests, so each test reads like the behaviour
// it checks: a store with a clock, a service, a node, and ways to move instances along.
import pino from 'pino';
import type { Logger } from 'pino';
import { API_VERSION, DEFAULT_NAMESPACE, type GantryNode, type Instance, type InstanceStatus, type Service } from '../../core/index.js';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite-store.js';
import type { NewObject, Store } from '../../store/store.js';

export const GiB = 2 ** 30;

/** A clock tests move by hand; `now()` in ms, `date()` as a Date. */
export class TestClock {
  constructor(public ms = Date.parse('2025-01-01T00:00:00Z')) {}
  now = (): number => this.ms;
  date = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function aStore(clock = new TestClock()): SqliteStore {
  return openSqliteStore(':memory:', { now: clock.date });
}

export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

export function aService(o: {
  name?: string;
  namespace?: string;
  replicas?: number;
  image?: string;
  memory?: string;
  cpu?: number;
  constraints?: string[];
} = {}): NewObject<Service> {
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name: o.name ?? 'web', namespace: o.namespace ?? DEFAULT_NAMESPACE, generation: 1 },
    spec: {
      replicas: o.replicas ?? 3,
      restartPolicy: 'Always',
      containers: [{ name: 'main', image: o.image ?? 'busybox:1.36', resources: { cpu: o.cpu ?? 0.1, memory: o.memory ?? '128Mi' } }],
      ...(o.constraints ? { placement: { constraints: o.constraints } } : {}),
    },
  };
}

export function aNode(o: {
  name?: string;
  /** Cores. */
  cpu?: number;
  memory?: number;
  ready?: boolean;
  lastHeartbeat?: string;
  labels?: Record<string, string>;
} = {}): NewObject<GantryNode> {
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name: o.name ?? 'n1', ...(o.labels ? { labels: o.labels } : {}) },
    spec: {},
    status: {
      ready: o.ready ?? true,
      capacity: { cpu: (o.cpu ?? 4) * 1000, memory: o.memory ?? 8 * GiB },
      driver: 'fake',
      conditions: [],
      ...(o.lastHeartbeat ? { lastHeartbeat: o.lastHeartbeat } : {}),
    },
  };
}

export async function instancesOf(store: Store, service = 'web', namespace = DEFAULT_NAMESPACE): Promise<Instance[]> {
  return (await store.list('Instance', { namespace })).items.filter((i) => i.spec.service === service);
}

/** Sets fields of an instance's status the way an agent report would. */
export async function setInstanceStatus(store: Store, inst: Instance, patch: Partial<InstanceStatus>): Promise<Instance> {
  const current = (await store.get('Instance', inst.metadata.namespace, inst.metadata.name)) ?? inst;
  const status: InstanceStatus = { ...(current.status ?? { phase: 'Pending', ready: false, containers: [] }), ...patch };
  return store.update<Instance>({ ...current, status });
}

/** A seeded [0, 1) generator, so instance names repeat run to run. */
export { seededRandom } from '../../core/index.js';
