// The manager against a real store, catalog and HAProxy (skipped where haproxy is not installed):
// endpoint changes reach the slots with no reload; a new host route reloads; status shows it all.
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../runtime/event-recorder.js';
import { quietLogger } from '../../controllers/shared/test-builders.js';
import { API_VERSION, type ExposeSpec, type GantryNode, type Instance, type InstanceStatus, type Service } from '../../core/index.js';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite-store.js';
import { Catalog } from '../catalog.js';
import { parseShowProc } from './haproxy-answers.js';
import { findHaproxy } from './haproxy-process.js';
import { socketCommand } from './haproxy-socket.js';
import { LoadBalancer } from './load-balancer.js';
import { anExposedService } from './test-services.js';
import { anInstance } from '../../core/test-builders.js';

const bin = findHaproxy();

function get(port: number, host?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
    });
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const status = (hostPort: number, ready: boolean): InstanceStatus => ({
  phase: 'Running',
  ready,
  hostIP: '127.0.0.1',
  containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts: { http: hostPort } }],
});

describe.skipIf(!bin)('LoadBalancer (real store, catalog and haproxy)', () => {
  let dir: string;
  let store: SqliteStore;
  let stop: AbortController;
  let catalog: Catalog;
  let lb: LoadBalancer;
  let done: Promise<void>;
  const backends: Server[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-lbm-'));
    store = openSqliteStore(':memory:');
    stop = new AbortController();
    catalog = new Catalog({ store, logger: quietLogger() });
    await store.create<GantryNode>({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: { address: '127.0.0.1' } });
  });

  afterEach(async () => {
    stop.abort();
    await done;
    for (const s of backends.splice(0)) await new Promise((r) => s.close(r));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function backend(name: string): Promise<number> {
    const s = createServer((_req, res) => res.end(name));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    backends.push(s);
    return (s.address() as { port: number }).port;
  }

  async function instance(name: string, hostPort: number): Promise<Instance> {
    const i = anInstance(name, { node: 'n1', status: status(hostPort, true) });
    return store.create<Instance>({ ...i, spec: { ...i.spec, containers: [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }] } });
  }

  async function service(expose: ExposeSpec[]): Promise<Service> {
    const s = anExposedService({ expose });
    const existing = await store.get('Service', 'default', 'web');
    if (existing) return store.update<Service>({ ...existing, spec: { ...existing.spec, expose } });
    return store.create<Service>({ ...s, metadata: { name: 'web', namespace: 'default' } });
  }

  // The master re-executes itself after a load: its socket may refuse for a moment.
  const reloads = async (): Promise<number> =>
    until('the master CLI to answer', async () => parseShowProc(await socketCommand(join(dir, 'haproxy', 'master.sock'), 'show proc').catch(() => ''))?.reloads);

  async function seen(port: number, n: number, host?: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (let k = 0; k < n; k++) out.add(await get(port, host));
    return out;
  }

  it('moves endpoints through the runtime API without a reload, and reloads for a new host route', async () => {
    const [servicePort, httpPort] = [await freePort(), await freePort()];
    const [pa, pb, pc] = [await backend('a'), await backend('b'), await backend('c')];
    await instance('web-a', pa);
    await instance('web-b', pb);
    let svc = await service([{ port: 'http', servicePort, mode: 'http' }]);
    const events = new EventRecorder(store);
    lb = new LoadBalancer({ store, catalog, events, logger: quietLogger(), dataDir: dir, address: '127.0.0.1', httpPort });
    done = Promise.all([catalog.run(stop.signal), lb.run(stop.signal)]).then(() => undefined);
    await until('a and b to be served', async () => (await seen(servicePort, 6)).size === 2);
    const before = await reloads();

    // A third instance turns ready: it gets a slot and traffic, and nothing reloads.
    const c = await instance('web-c', pc);
    await until('c to be served', async () => (await seen(servicePort, 6)).has('200 c'));
    // c stops being ready: it leaves its slot.
    await store.update<Instance>({ ...c, status: status(pc, false) });
    await until('c to get no more traffic', async () => !(await seen(servicePort, 9)).has('200 c'));
    expect(await reloads()).toBe(before);

    svc = await service([{ port: 'http', servicePort, mode: 'http' }, { port: 'http', hostname: 'web.example.com', mode: 'http' }]);
    await until('the host route to answer', async () => (await seen(httpPort, 4, 'web.example.com')).has('200 a'));
    // The new worker answers a moment before the manager has read the reload's outcome.
    await lb.idle();
    expect(await reloads()).toBe(before + 1);
    expect((await get(httpPort, 'other.example.com')).startsWith('404')).toBe(true);
    // After the reload the slots are as the catalog says: a and b, not c.
    expect([...(await seen(servicePort, 9))].sort()).toEqual(['200 a', '200 b']);

    const st = await lb.status((await store.get('Service', 'default', svc.metadata.name))!);
    expect(st.lastReload?.result).toBe('ok');
    expect(st.entries.map((e) => [e.state, e.frontends])).toEqual([
      ['Serving', [`127.0.0.1:${servicePort}`]],
      ['Serving', [`http://web.example.com:${httpPort}`]],
    ]);
    expect(st.entries[0]?.servers.map((s) => [s.instance, s.port])).toEqual([
      ['web-a', pa],
      ['web-b', pb],
    ]);
    expect(st.entries[0]?.servers.every((s) => s.state.length > 0 && s.state !== 'unknown')).toBe(true);
  }, 60_000);
});

describe('LoadBalancer without haproxy', () => {
  it('is off with one warning, runs nothing, and says so in every status', async () => {
    const store = openSqliteStore(':memory:');
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const catalog = new Catalog({ store, logger: quietLogger() });
    const lb = new LoadBalancer({ store, catalog, events: new EventRecorder(store), logger, dataDir: '/tmp/gantry-no-lb', address: '127.0.0.1', httpPort: 8080, bin: null });
    expect(lb.enabled).toBe(false);
    await lb.run(new AbortController().signal);
    expect(warnings).toEqual(['haproxy is not installed, so the load balancer is off (apt-get install haproxy, or scripts/ensure.sh)']);
    const st = await lb.status(anExposedService({ expose: [{ port: 'http', servicePort: 18080, mode: 'http' }] }));
    expect(st).toMatchObject({ enabled: false, entries: [{ state: 'Off', servicePort: 18080, servers: [] }] });
    await store.close();
  });
});

