// The runtime Informer over the HTTP client against a real server, through a TCP proxy that can
// cut every connection, as a network failure or a server restart would.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { GantryClient } from '../client/types.js';
import type { Service } from '../core/index.js';
import { Informer, type InformerHandlers } from '../runtime/informer.js';
import { quietLogger } from '../controllers/shared/test-builders.js';
import { startHarness, type Harness } from './test-helpers.js';
import { aService } from '../core/test-builders.js';

interface Proxy {
  url: string;
  connections: number;
  dropAll(): void;
  close(): Promise<void>;
}

async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const proxy: Proxy = {
    url: '',
    connections: 0,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => {
    proxy.dropAll();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let h: Harness;
let proxy: Proxy | undefined;
let loop = new AbortController();
let running: Promise<void> | undefined;

afterEach(async () => {
  loop.abort();
  await running;
  loop = new AbortController();
  running = undefined;
  await proxy?.close();
  await h.close();
});

async function setup(historyLimit = 1000): Promise<ReturnType<typeof createHttpClient>> {
  h = await startHarness({ historyLimit });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  proxy = await startProxy((h.app.server.address() as AddressInfo).port);
  return createHttpClient({ server: proxy.url, token: 'admin-token-0123456789' });
}

const apply = async (name: string, replicas = 1): Promise<void> => {
  const res = await h.call({ method: 'PUT', url: `/api/v1/namespaces/default/services/${name}`, payload: aService(name, { replicas }) });
  expect(res.statusCode).toBeLessThan(300);
};

/** An informer of Services in `namespace` over `client`, with quick retries. */
function serviceInformer(client: GantryClient, handlers: InformerHandlers<Service>, namespace?: string): Informer<'Service'> {
  const inf = new Informer({ source: client, kind: 'Service', select: { namespace }, logger: quietLogger(), retryDelayMs: 20, maxRetryDelayMs: 100 });
  inf.addHandlers(handlers);
  return inf;
}

describe('Informer over the HTTP client', () => {
  it('resumes after a dropped connection from the last revision, missing and repeating nothing', async () => {
    const client = await setup();
    const syncs: number[] = [];
    const events: [string, string, number][] = [];
    running = serviceInformer(client, {
      onSync: (_items, revision) => void syncs.push(revision),
      onAdd: (s) => void events.push(['ADDED', s.metadata.name, s.metadata.revision]),
      onUpdate: (_o, s) => void events.push(['MODIFIED', s.metadata.name, s.metadata.revision]),
    }, 'default').run(loop.signal);
    await until(() => syncs.length === 1);
    await apply('one');
    await until(() => events.length === 1);
    const connectionsBefore = proxy!.connections;
    proxy!.dropAll();
    await apply('two');
    await apply('one', 3);
    await until(() => events.length === 3);
    expect(events.map(([type, name]) => [type, name])).toEqual([
      ['ADDED', 'one'],
      ['ADDED', 'two'],
      ['MODIFIED', 'one'],
    ]);
    const revs = events.map((e) => e[2]);
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    expect(new Set(revs).size).toBe(3);
    expect(syncs).toHaveLength(1); // resumed, not relisted
    expect(proxy!.connections).toBeGreaterThan(connectionsBefore);
  });

  it('lists again and calls onSync when the revision has expired', async () => {
    const client = await setup(3);
    const syncs: Service[][] = [];
    running = serviceInformer(client, {
      onSync: async (items) => {
        syncs.push(items);
        // While we "process" the first list, more changes land than the server keeps.
        if (syncs.length === 1) for (let i = 0; i < 6; i++) await apply(`s${i}`);
      },
    }, 'default').run(loop.signal);
    await until(() => syncs.length === 2);
    expect(syncs[0]).toHaveLength(0);
    expect(syncs[1]!.map((s) => s.metadata.name).sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  it('gives handlers without onSync one onAdd/onDelete per difference after an EXPIRED relist', async () => {
    const client = await setup(3);
    await apply('gone');
    const seen: string[] = [];
    const inf = serviceInformer(client, {
      onAdd: (s) => void seen.push(`add ${s.metadata.name}`),
      onDelete: (s) => void seen.push(`delete ${s.metadata.name}`),
    });
    running = inf.run(loop.signal);
    await inf.synced;
    // While the connection is down, more changes land than the server keeps.
    proxy!.dropAll();
    const res = await h.call({ method: 'DELETE', url: '/api/v1/namespaces/default/services/gone' });
    expect(res.statusCode).toBeLessThan(300);
    for (let i = 0; i < 6; i++) await apply(`s${i}`);
    await until(() => inf.list().length === 6);
    expect(seen).toContain('add gone');
    expect(seen).toContain('delete gone');
    expect(inf.get('default', 's5')?.metadata.name).toBe('s5');
  });

  it('ends when its signal aborts', async () => {
    const client = await setup();
    const ac = new AbortController();
    let synced = false;
    const done = serviceInformer(client, { onSync: () => void (synced = true) }).run(ac.signal);
    await until(() => synced);
    ac.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it('lists again when onSync throws, instead of going on from a state it did not take in', async () => {
    const client = await setup();
    let calls = 0;
    running = serviceInformer(client, {
      onSync: () => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
      },
    }).run(loop.signal);
    await until(() => calls === 2);
  });

  it('keeps going when an event handler throws: the others still hear of the change', async () => {
    const client = await setup();
    const seen: string[] = [];
    const inf = serviceInformer(client, {
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    inf.addHandlers({ onAdd: (s) => void seen.push(s.metadata.name) });
    running = inf.run(loop.signal);
    await inf.synced;
    await apply('one');
    await apply('two');
    await until(() => seen.length === 2);
    expect(seen).toEqual(['one', 'two']);
  });
});
