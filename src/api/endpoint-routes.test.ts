// The endpoints API over a real listening server: a real in-memory store, a real Catalog and the
// real HTTP client.
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { EndpointWatchEvent, GantryClient } from '../client/types.js';
import { isAppError, type Instance, type InstanceStatus } from '../core/index.js';
import { Catalog } from '../discovery/catalog.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { ADMIN, aUserToken, startHarness, type Harness } from './test-helpers.js';
import { aService, anInstance } from '../core/test-builders.js';

let h: Harness;
let store: SqliteStore;
let stop: AbortController;
afterEach(async () => {
  stop.abort();
  await h.close();
  await store.close();
});

const running = (hostPort: number, ready = true): InstanceStatus => ({
  phase: 'Running',
  ready,
  hostIP: '127.0.0.1',
  containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts: { http: hostPort } }],
});

function served(name: string, hostPort: number, o: { ready?: boolean; service?: string; namespace?: string } = {}): ReturnType<typeof anInstance> {
  const i = anInstance(name, { node: 'n1', service: o.service ?? 'web', namespace: o.namespace, status: running(hostPort, o.ready) });
  return { ...i, spec: { ...i.spec, containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }] } };
}

async function started(withCatalog = true): Promise<{ admin: GantryClient; viewer: GantryClient; node: GantryClient }> {
  stop = new AbortController();
  // The app and the catalog share this store; the harness's own one stays unused.
  store = openSqliteStore(':memory:');
  const catalog = withCatalog ? new Catalog({ store, logger: pino({ level: 'silent' }) }) : undefined;
  if (catalog) void catalog.run(stop.signal);
  h = await startHarness({ store, catalog, bookmarkIntervalMs: 100 });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as AddressInfo;
  const server = `http://127.0.0.1:${port}`;
  return { admin: createHttpClient({ server, token: ADMIN }), viewer: createHttpClient({ server, token: await aUserToken(h, 'vera', 'view') }), node: createHttpClient({ server, token: await h.node('n1') }) };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await check()).toBe(true);
}

describe('endpoints API', () => {
  it("serves a service's ready endpoints to admin and view tokens (not to nodes), and 404 for an unknown service", async () => {
    const { admin, viewer, node } = await started();
    await admin.apply(aService('web'));
    await store.create<Instance>(served('web-1', 20001));
    await store.create<Instance>(served('web-2', 20002, { ready: false }));
    await until(async () => (await admin.endpoints('default', 'web')).endpoints.length === 1);
    const set = await viewer.endpoints('default', 'web');
    expect(isAppError(await node.endpoints('default', 'web').catch((e: unknown) => e), 'FORBIDDEN')).toBe(true);
    expect(set.endpoints.map((e) => [e.instance, e.port, e.address, e.hostPort, e.health])).toEqual([['web-1', 'http', '127.0.0.1', 20001, 'passing']]);
    const err = await admin.endpoints('default', 'nope').catch((e: unknown) => e);
    expect(isAppError(err, 'NOT_FOUND')).toBe(true);
    // A service that exists but has no endpoints is an empty answer, not a 404.
    await admin.apply(aService('idle'));
    expect((await admin.endpoints('default', 'idle')).endpoints).toEqual([]);
  });

  it('lists every service, or one namespace', async () => {
    const { admin } = await started();
    await store.create({ apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name: 'prod', generation: 1 }, spec: {} });
    await store.create<Instance>(served('web-1', 20001));
    await store.create<Instance>(served('api-1', 20003, { service: 'api', namespace: 'prod' }));
    await until(async () => (await admin.listEndpoints()).items.length === 2);
    expect((await admin.listEndpoints()).items.map((s) => `${s.namespace}/${s.service}`)).toEqual(['default/web', 'prod/api']);
    expect((await admin.listEndpoints('prod')).items.map((s) => s.service)).toEqual(['api']);
  });

  it('watch: the current set, then each change, with bookmarks when idle', async () => {
    const { admin } = await started();
    const inst = await store.create<Instance>(served('web-1', 20001));
    await until(async () => (await admin.listEndpoints()).items.length === 1);
    const ac = new AbortController();
    const seen: EndpointWatchEvent[] = [];
    const reading = (async () => {
      for await (const ev of admin.watchEndpoints('default', 'web', ac.signal)) {
        seen.push(ev);
        if (seen.filter((e) => e.type !== 'BOOKMARK').length === 3 && seen.some((e) => e.type === 'BOOKMARK')) break;
      }
    })();
    await until(() => seen.length >= 1);
    await store.update<Instance>({ ...inst, status: running(20001, false) });
    await until(() => seen.filter((e) => e.type === 'MODIFIED').length >= 1);
    await store.create<Instance>(served('web-2', 20002));
    await reading;
    ac.abort();
    const sets = seen.filter((e) => e.type !== 'BOOKMARK');
    expect(sets.map((e) => [e.type, e.object?.endpoints.map((x) => x.instance)])).toEqual([
      ['ADDED', ['web-1']],
      ['MODIFIED', []],
      ['MODIFIED', ['web-2']],
    ]);
    expect(seen.some((e) => e.type === 'BOOKMARK' && e.revision > 0)).toBe(true);
  });

  it('answers 503 with the fix when the server runs no catalog', async () => {
    const { admin } = await started(false);
    const err = await admin.listEndpoints().catch((e: unknown) => e);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('no service catalog');
  });
});
