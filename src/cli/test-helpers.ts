// Helpers for CLI tests: events as the API returns them, a context that records output, and a
// client whose methods fail unless a test provides them. Services, nodes and instances come from
// core/test-builders.ts (`stored()` with `createdAt: ago(seconds)` for an age).
import type { GantryClient } from '../client/types.js';
import { API_VERSION, DEFAULT_NAMESPACE, type GantryEvent } from '../core/index.js';
import type { CliContext, Connection } from './context.js';

export const NOW = new Date('2025-01-01T12:00:00Z');
/** The ISO time `seconds` before NOW. */
export const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

const meta = (name: string, namespace: string | undefined, ageSeconds: number) => ({
  name,
  ...(namespace !== undefined ? { namespace } : {}),
  uid: `uid-${name}`,
  revision: 7,
  generation: 1,
  createdAt: ago(ageSeconds),
});

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
