// Builders and a harness for API tests: a real in-memory SQLite store behind a real app.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import type { AnyObject, InstanceStatus, Manifest } from '../core/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { buildApp, type ApiDeps } from './app.js';
import { EventRecorder } from '../runtime/event-recorder.js';
import type { PersonRole } from '../core/index.js';
import { issueToken } from './token-issue.js';

export const ADMIN = 'admin-token-0123456789';

export interface Harness {
  app: FastifyInstance;
  store: SqliteStore;
  /** inject with the admin token unless `token` says otherwise (null: no token). */
  call(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  /**
   * The credential of node `name` (made once, as a join makes it, at 10.0.0.1:7071 unless told):
   * every node has its own; there is no token for "any node".
   */
  node(name: string, address?: string, agentPort?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(over: Partial<ApiDeps> & { historyLimit?: number } = {}): Promise<Harness> {
  // A store the test gives is the harness's store too (node and user tokens are written there).
  const store = (over.store as SqliteStore | undefined) ?? openSqliteStore(':memory:', { historyLimit: over.historyLimit ?? 1000 });
  const app = await buildApp({
    store,
    adminToken: ADMIN,
    logger: pino({ level: 'silent' }),
    version: '0.0.0-test',
    clusterId: 'test-cluster',
    events: new EventRecorder(store),
    ...over,
  });
  const nodeTokens = new Map<string, Promise<string>>();
  const h: Harness = {
    app,
    store,
    call: ({ token = ADMIN, headers, ...rest }) =>
      app.inject({ ...rest, headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } }),
    node: (name, address, agentPort) => {
      let made = nodeTokens.get(name);
      if (!made) {
        made = aNodeToken(h, name, address, agentPort);
        nodeTokens.set(name, made);
      }
      return made;
    },
    close: async () => {
      await app.close();
      await store.close();
    },
  };
  return h;
}

/**
 * Stores a person's Token and answers its token string once the API accepts it (the API's token
 * mirror learns of it through its store watch).
 */
export async function aUserToken(h: Harness, user: string, role: PersonRole, namespaces: string[] | '*' = '*', over: { expiresAt?: string } = {}): Promise<string> {
  const { token, manifest } = issueToken({ type: 'user', user, role, namespaces: namespaces === '*' ? ['*'] : namespaces, ...over });
  await h.store.create(manifest);
  for (let i = 0; i < 100; i++) {
    const res = await h.call({ method: 'GET', url: '/api/v1/nodes/x-no-such-node', token });
    if (res.statusCode !== 401 || over.expiresAt !== undefined) return token;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`token of ${user} not accepted`);
}

export function aNamespace(name: string): Manifest {
  return { apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name }, spec: {} };
}

export function aRunningStatus(containerId = 'c0ffee', over: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    phase: 'Running',
    ready: true,
    containers: [{ name: 'main', containerId, state: 'running', restartCount: 0, hostPorts: {} }],
    ...over,
  };
}


export type { AnyObject };

/**
 * Stores a node credential (as a join makes it: node name, address, agent port) and answers its
 * token string once the API accepts it.
 */
export async function aNodeToken(h: Harness, node: string, address = '10.0.0.1', agentPort = 7071): Promise<string> {
  const { token, manifest } = issueToken({ type: 'node', node, address, agentPort });
  await h.store.create(manifest);
  for (let i = 0; i < 100; i++) {
    const res = await h.call({ method: 'GET', url: '/api/v1/version', token });
    if (res.statusCode !== 401) return token;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`token of node ${node} not accepted`);
}
