// watchWithResume (src/client/watch-loop.ts) against a real server, through a TCP proxy that can
// cut every connection, as a network failure or a server restart would.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { ClientWatchEvent } from '../client/types.js';
import { watchWithResume } from '../client/watch-loop.js';
import type { AnyObject } from '../core/index.js';
import { aService, startHarness, type Harness } from './test-helpers.js';

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

describe('watchWithResume', () => {
  it('resumes after a dropped connection from the last revision, missing and repeating nothing', async () => {
    const client = await setup();
    const syncs: number[] = [];
    const events: ClientWatchEvent[] = [];
    running = watchWithResume(client, 'Service', { namespace: 'default' }, loop.signal, {
      onSync: (_items, revision) => void syncs.push(revision),
      onEvent: (ev) => void events.push(ev),
    }, undefined, { initialBackoffMs: 20, maxBackoffMs: 100 });
    await until(() => syncs.length === 1);
    await apply('one');
    await until(() => events.length === 1);
    const connectionsBefore = proxy!.connections;
    proxy!.dropAll();
    await apply('two');
    await apply('one', 3);
    await until(() => events.length === 3);
    expect(events.map((e) => [e.type, e.object?.metadata.name])).toEqual([
      ['ADDED', 'one'],
      ['ADDED', 'two'],
      ['MODIFIED', 'one'],
    ]);
    const revs = events.map((e) => e.revision);
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    expect(new Set(revs).size).toBe(3);
    expect(syncs).toHaveLength(1); // resumed, not relisted
    expect(proxy!.connections).toBeGreaterThan(connectionsBefore);
  });

  it('lists again and calls onSync when the revision has expired', async () => {
    const client = await setup(3);
    const syncs: AnyObject[][] = [];
    running = watchWithResume(client, 'Service', { namespace: 'default' }, loop.signal, {
      onSync: async (items) => {
        syncs.push(items);
        // While we "process" the first list, more changes land than the server keeps.
        if (syncs.length === 1) for (let i = 0; i < 6; i++) await apply(`s${i}`);
      },
      onEvent: () => undefined,
    }, undefined, { initialBackoffMs: 20 });
    await until(() => syncs.length === 2);
    expect(syncs[0]).toHaveLength(0);
    expect(syncs[1]!.map((s) => s.metadata.name).sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  it('ends when its signal aborts', async () => {
    const client = await setup();
    const ac = new AbortController();
    let synced = false;
    const done = watchWithResume(client, 'Service', {}, ac.signal, { onSync: () => void (synced = true), onEvent: () => undefined });
    await until(() => synced);
    ac.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it('rejects when a handler throws, instead of retrying a bug forever', async () => {
    const client = await setup();
    running = watchWithResume(client, 'Service', {}, loop.signal, {
      onSync: () => undefined,
      onEvent: () => {
        throw new Error('handler bug');
      },
    });
    const failed = running.catch((e: unknown) => e);
    running = undefined;
    await new Promise((r) => setTimeout(r, 100));
    await apply('one');
    expect(await failed).toMatchObject({ message: 'handler bug' });
  });
});
