// Builders for CLI tests: objects as the API returns them, a context that records output, and a
// client whose methods fail unless a test provides them.
import type { GantryClient } from '../client/types.js';
import { API_VERSION, DEFAULT_NAMESPACE, type GantryEvent, type GantryNode, type Instance, type Service } from '../core/index.js';
import type { CliContext, Connection } from './context.js';

export const NOW = new Date('2025-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const meta = (name: string, namespace: string | undefined, ageSeconds: number) => ({
  name,
  ...(namespace !== undefined ? { namespace } : {}),
  uid: `uid-${name}`,
  revision: 7,
  generation: 1,
  createdAt: ago(ageSeconds),
});

export function aService(name = 'web', o: { replicas?: number; ready?: number; namespace?: string; ageSeconds?: number; image?: string } = {}): Service {
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: meta(name, o.namespace ?? DEFAULT_NAMESPACE, o.ageSeconds ?? 300),
    spec: { replicas: o.replicas ?? 3, containers: [{ name: 'web', image: o.image ?? 'gantry-examples/hello:1' }] },
    status: { replicas: o.replicas ?? 3, readyReplicas: o.ready ?? 3, conditions: [] },
  };
}

export function anInstance(name: string, o: { service?: string; node?: string; namespace?: string; hostPort?: number; restarts?: number; message?: string } = {}): Instance {
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: meta(name, o.namespace ?? DEFAULT_NAMESPACE, 60),
    spec: {
      service: o.service ?? 'web',
      ...(o.node !== undefined ? { node: o.node } : {}),
      containers: [{ name: 'web', image: 'gantry-examples/hello:1' }],
      restartPolicy: 'Always',
      resources: { cpu: 100, memory: 32 * 2 ** 20 },
      templateHash: 'abc',
    },
    status: {
      phase: o.node ? 'Running' : 'Pending',
      ready: Boolean(o.node),
      hostIP: '127.0.0.1',
      ...(o.message !== undefined ? { message: o.message } : {}),
      containers: o.node
        ? [{ name: 'web', state: 'running', restartCount: o.restarts ?? 0, hostPorts: o.hostPort ? { http: o.hostPort } : {} }]
        : [],
    },
  };
}

export function aNode(name: string, o: { ready?: boolean; labels?: Record<string, string> } = {}): GantryNode {
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { ...meta(name, undefined, 3600), ...(o.labels ? { labels: o.labels } : {}) },
    spec: {},
    status: { ready: o.ready ?? true, capacity: { cpu: 2000, memory: 4 * 2 ** 30 }, driver: 'docker', conditions: [] },
  };
}

export function anEvent(name: string, o: { involved: { kind: string; name: string; namespace?: string }; reason?: string; message?: string; ageSeconds?: number; count?: number; type?: 'Normal' | 'Warning' }): GantryEvent {
  return {
    apiVersion: API_VERSION,
    kind: 'Event',
    metadata: meta(name, o.involved.namespace ?? DEFAULT_NAMESPACE, o.ageSeconds ?? 10),
    spec: {
      involved: o.involved,
      type: o.type ?? 'Normal',
      reason: o.reason ?? 'Scheduled',
      message: o.message ?? 'placed',
      source: 'scheduler',
      count: o.count ?? 1,
      firstTime: ago(o.ageSeconds ?? 10),
      lastTime: ago(o.ageSeconds ?? 10),
    },
    status: {},
  };
}

/** A client whose unimplemented methods throw, so a test notices calls it did not expect. */
export function fakeClient(methods: Partial<GantryClient>): GantryClient {
  return new Proxy({ server: 'http://127.0.0.1:7070', ...methods } as GantryClient, {
    get(target, prop: string) {
      const v = (target as unknown as Record<string, unknown>)[prop];
      if (v === undefined && prop !== 'then') return () => Promise.reject(new Error(`fake client: ${prop} not expected`));
      return v;
    },
  });
}

export interface RecordingContext extends CliContext {
  out: string;
  err: string;
  connections: Connection[];
}

export function testContext(o: { client?: GantryClient; env?: Record<string, string>; files?: Record<string, string>; stdin?: string } = {}): RecordingContext {
  const ctx: RecordingContext = {
    out: '',
    err: '',
    connections: [],
    env: o.env ?? {},
    homeDir: '/home/tester',
    stdout: (t) => void (ctx.out += t),
    stderr: (t) => void (ctx.err += t),
    readStdin: () => Promise.resolve(o.stdin ?? ''),
    readFile: (path) => {
      const text = o.files?.[path];
      if (text !== undefined) return Promise.resolve(text);
      return Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' }));
    },
    now: () => NOW,
    connect: (conn) => {
      ctx.connections.push(conn);
      return o.client ?? fakeClient({});
    },
  };
  return ctx;
}
