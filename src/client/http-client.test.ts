import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AppError,
  ConflictError,
  ExpiredError,
  ForbiddenError,
  InternalError,
  InvalidError,
  isAppError,
  MalformedError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../core/index.js';
import { collectionPath, createHttpClient, objectPath } from './http-client.js';
import { HttpTransport } from './http-transport.js';

let server: http.Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A stand-in server that answers every request with `status` and `body`, recording requests. */
async function answer(status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ url: string; seen: { method: string; url: string; auth: string | undefined; body: string }[] }> {
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body: data });
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('paths', () => {
  it('uses the namespace for namespaced kinds and the default one for objects', () => {
    expect(collectionPath('Service', undefined)).toBe('/api/v1/services');
    expect(collectionPath('Service', 'team-a')).toBe('/api/v1/namespaces/team-a/services');
    expect(objectPath('Service', undefined, 'web')).toBe('/api/v1/namespaces/default/services/web');
    expect(objectPath('Node', 'ignored', 'n1')).toBe('/api/v1/nodes/n1');
  });
});

describe('errors', () => {
  it('turns a refused connection into UNAVAILABLE that says how to start the server', async () => {
    const { url } = await answer(200, '{}');
    const s = server!;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const client = createHttpClient({ server: url, token: 't' });
    const err = await client.version().catch((e: unknown) => e);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as AppError).message).toMatch(/cannot reach the Gantry server at http:\/\/127\.0\.0\.1:\d+.*gantry up/);
    expect(await client.healthz()).toBe(false);
  });

  it('gives a 422 with its field details to the caller', async () => {
    const body = { error: { code: 'INVALID', message: 'service "web" is invalid: 1 problem', details: [{ path: 'spec.replicas', message: 'must be a whole number' }] } };
    const { url } = await answer(422, JSON.stringify(body));
    const client = createHttpClient({ server: url, token: 't' });
    const err = await client.scale('default', 'web', -1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(422);
    expect((err as AppError).details).toEqual(body.error.details);
  });

  it('keeps what a non-Gantry server said', async () => {
    const { url } = await answer(502, 'bad gateway', { 'content-type': 'text/plain' });
    const err = await createHttpClient({ server: url, token: 't' }).version().catch((e: unknown) => e);
    expect((err as AppError).message).toContain('bad gateway');
  });
});

describe('requests', () => {
  it('sends the token, the body and reads the apply result header', async () => {
    const stored = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'u1', revision: 4, createdAt: '2026-01-01T00:00:00Z' }, spec: {} };
    const { url, seen } = await answer(200, JSON.stringify(stored), { 'content-type': 'application/json', 'x-gantry-result': 'unchanged' });
    const client = createHttpClient({ server: `${url}/`, token: 'secret' });
    const manifest = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web' }, spec: { containers: [{ name: 'm', image: 'i' }] } } as const;
    const { object, result } = await client.apply(manifest as never);
    expect(result).toBe('unchanged');
    expect(object).toEqual(stored);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', auth: 'Bearer secret' });
    expect(JSON.parse(seen[0]!.body)).toEqual(manifest);
  });

  it('posts a heartbeat without a body', async () => {
    const { url, seen } = await answer(204, '');
    await createHttpClient({ server: url, token: 't' }).heartbeat('n1');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', body: '' });
  });

  it('notes when a server took a report as the node’s heartbeat (Gantry-Lease: renewed)', async () => {
    const { url } = await answer(200, JSON.stringify({ recorded: 1 }), { 'content-type': 'application/json', 'gantry-lease': 'renewed' });
    const client = createHttpClient({ server: url, token: 't' });
    expect(client.leaseRenewedAt).toBeUndefined();
    const before = Date.now();
    await client.recordEvents([{ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'Checked', message: 'ok' }]);
    expect(client.leaseRenewedAt).toBeGreaterThanOrEqual(before);
  });

  it('notes the heartbeat interval the server asks for (Gantry-Heartbeat-Interval)', async () => {
    const { url } = await answer(204, '', { 'gantry-heartbeat-interval': '10000' });
    const client = createHttpClient({ server: url, token: 't' });
    expect(client.advisedHeartbeatIntervalMs).toBeUndefined();
    await client.heartbeat('n1');
    expect(client.advisedHeartbeatIntervalMs).toBe(10_000);
  });

  it('forgets the pace when a heartbeat answer no longer carries it, and never takes more than a minute', async () => {
    let header: Record<string, string> = { 'gantry-heartbeat-interval': '3600000' };
    server = http.createServer((_req, res) => res.writeHead(204, header).end());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = createHttpClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
    await client.heartbeat('n1');
    expect(client.advisedHeartbeatIntervalMs).toBe(60_000);
    header = {};
    await client.heartbeat('n1');
    expect(client.advisedHeartbeatIntervalMs).toBeUndefined();
  });

  it('does not take an answer without the header as a renewal', async () => {
    const { url } = await answer(200, JSON.stringify({ recorded: 1 }));
    const client = createHttpClient({ server: url, token: 't' });
    await client.recordEvents([{ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'Checked', message: 'ok' }]);
    expect(client.leaseRenewedAt).toBeUndefined();
  });

  it('passes selectors on lists', async () => {
    const { url, seen } = await answer(200, JSON.stringify({ apiVersion: 'gantry/v1', kind: 'List', items: [], metadata: { revision: 7 } }));
    const list = await createHttpClient({ server: url, token: 't' }).list('Instance', { fieldSelector: 'spec.node=n1' });
    expect(list.revision).toBe(7);
    expect(seen[0]?.url).toBe('/api/v1/instances?fieldSelector=spec.node%3Dn1');
  });

  it('posts events with their source, and passes a 422 on', async () => {
    const { url, seen } = await answer(200, JSON.stringify({ recorded: 1 }));
    const event = { involved: { kind: 'Instance', namespace: 'default', name: 'web-abcde' }, type: 'Normal', reason: 'Started', message: 'started container web' } as const;
    await createHttpClient({ server: url, token: 't' }).recordEvents([event], 'agent/n1');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/events' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ items: [event], source: 'agent/n1' });
  });

  it('gives a rejected event batch to the caller as INVALID', async () => {
    const body = { error: { code: 'INVALID', message: 'the event batch is invalid', details: [{ path: 'items[0].reason', message: 'must be one CamelCase word' }] } };
    const { url } = await answer(422, JSON.stringify(body));
    const err = await createHttpClient({ server: url, token: 't' })
      .recordEvents([{ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'bad reason', message: 'x' }])
      .catch((e: unknown) => e);
    expect(isAppError(err, 'INVALID')).toBe(true);
    expect((err as AppError).details?.[0]?.path).toBe('items[0].reason');
  });
});

describe('the contract', () => {
  it('refuses a body that does not match the route, naming the route and the field', async () => {
    const { url } = await answer(200, JSON.stringify({ apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web', revision: 'four' }, spec: {} }));
    const err = await createHttpClient({ server: url, token: 't' }).get('Service', 'default', 'web').catch((e: unknown) => e);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as AppError).message).toMatch(/answered GET \/api\/v1\/namespaces\/\{namespace\}\/services\/\{name\} with a body that does not match the API contract: metadata\.revision /);
  });

  it('refuses an object of another kind than the one asked for', async () => {
    const node = { apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'web', uid: 'u', revision: 1, createdAt: 'x' }, spec: {} };
    const { url } = await answer(200, JSON.stringify(node));
    const err = await createHttpClient({ server: url, token: 't' }).get('Service', 'default', 'web').catch((e: unknown) => e);
    expect((err as AppError).message).toMatch(/does not match the API contract: kind /);
  });

  it('refuses a body that is not JSON', async () => {
    const { url } = await answer(200, '<html>a proxy</html>', { 'content-type': 'text/html' });
    const err = await createHttpClient({ server: url, token: 't' }).version().catch((e: unknown) => e);
    expect((err as AppError).message).toMatch(/answered GET \/api\/v1\/version with a body that is not JSON \(<html>a proxy<\/html>\)/);
  });

  it('refuses a watch line that does not match', async () => {
    const { url } = await answer(200, `${JSON.stringify({ type: 'ADDED', revision: 'five' })}\n`, { 'content-type': 'application/x-ndjson' });
    const err = await (async () => {
      for await (const _ of createHttpClient({ server: url, token: 't' }).watch({ kind: 'Instance' }, new AbortController().signal)) void _;
    })().catch((e: unknown) => e);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as AppError).message).toMatch(/watch of Instance .* sent a line that does not match the API contract: revision /);
  });
});

describe('keep-alive', () => {
  it('reuses one connection for successive calls, also between clients sharing a transport', async () => {
    const ports: (number | undefined)[] = [];
    server = http.createServer((req, res) => {
      ports.push(req.socket.remotePort);
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = new HttpTransport({ maxSockets: 4 });
    try {
      const a = createHttpClient({ server: url, token: 't', transport });
      const b = createHttpClient({ server: url, token: 't', transport });
      await a.heartbeat('n1');
      await b.heartbeat('n2');
      await a.heartbeat('n1');
      expect(ports).toHaveLength(3);
      expect(new Set(ports).size).toBe(1);
    } finally {
      transport.close();
      server.closeAllConnections();
    }
  });

  it('opens no more sockets than maxSockets, however many calls are in flight', async () => {
    const ports = new Set<number | undefined>();
    server = http.createServer((req, res) => {
      ports.add(req.socket.remotePort);
      setTimeout(() => res.writeHead(204).end(), 20);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = new HttpTransport({ maxSockets: 3 });
    try {
      const client = createHttpClient({ server: url, token: 't', transport });
      await Promise.all(Array.from({ length: 30 }, (_, i) => client.heartbeat(`n${i}`)));
      expect(ports.size).toBe(3);
    } finally {
      transport.close();
      server.closeAllConnections();
    }
  });

  it('rejects a heartbeat of a forgotten node with NOT_FOUND, so the agent registers again', async () => {
    const { url } = await answer(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Node "gone-01" not found' } }));
    const err = await createHttpClient({ server: url, token: 't' }).heartbeat('gone-01').catch((e: unknown) => e);
    expect(isAppError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('gone-01');
  });
});

describe('timeouts', () => {
  it('leaves no timer behind after a fast call (thousands of heartbeats a second in gantry sim)', async () => {
    const { url } = await answer(204, '');
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const client = createHttpClient({ server: url, token: 't', timeoutMs: 60_000 });
    await client.heartbeat('n1');
    await client.heartbeat('n1');
    expect(timers()).toBe(before); // each call's deadline was cleared when it finished
    client.close();
  });

  it('still gives up on a server that does not answer, naming the call and the timeout', async () => {
    const silent = http.createServer(() => undefined); // reads the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const err = await createHttpClient({ server: url, token: 't', timeoutMs: 100 }).version().catch((e: unknown) => e);
      expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
      expect((err as AppError).message).toBe(`the Gantry server at ${url} did not answer GET /api/v1/version within 100 ms`);
      // A heartbeat can have its own, shorter timeout (an agent keeps it under its interval).
      const started = Date.now();
      const beat = await createHttpClient({ server: url, token: 't', timeoutMs: 60_000 }).heartbeat('n1', { timeoutMs: 150 }).catch((e: unknown) => e);
      expect((beat as AppError).message).toBe(`the Gantry server at ${url} did not answer POST /api/v1/nodes/n1/heartbeat within 150 ms`);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('typed errors', () => {
  const cases: { body: AppError; expected: abstract new (...args: never[]) => AppError }[] = [
    { body: new MalformedError('the request body is not valid JSON'), expected: MalformedError },
    { body: new UnauthorizedError('no token'), expected: UnauthorizedError },
    { body: new ForbiddenError('admins do not write status'), expected: ForbiddenError },
    { body: new NotFoundError('Service', 'default', 'web'), expected: NotFoundError },
    { body: new ConflictError('service "default/web" was changed; read it again and retry'), expected: ConflictError },
    { body: new ExpiredError('revision 3 is no longer kept'), expected: ExpiredError },
    { body: new InvalidError('service "web" is invalid: 1 problem', [{ path: 'spec.replicas', message: 'must be a whole number' }]), expected: InvalidError },
    { body: new InternalError('internal error; the server log has the details'), expected: InternalError },
    { body: new UnavailableError('the agent of node "n1" does not answer'), expected: UnavailableError },
  ];

  it.each(cases.map((c) => [c.body.code, c] as const))('rebuilds a %s answer as the class of its code, with its status, message and details', async (_, c) => {
    const { url } = await answer(c.body.status, JSON.stringify(c.body.toBody()));
    const err = await createHttpClient({ server: url, token: 't' })
      .get('Service', 'default', 'web')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(c.expected);
    expect(err).toMatchObject({ code: c.body.code, status: c.body.status, message: c.body.message, details: c.body.details });
  });

  it('rebuilds an answer that is not Gantry\'s from its status alone', async () => {
    const { url } = await answer(404, 'no such page', { 'content-type': 'text/plain' });
    const err = await createHttpClient({ server: url, token: 't' }).version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as AppError).message).toMatch(/^HTTP 404 from http:\/\/127\.0\.0\.1:\d+: no such page$/);
  });
});

describe('several servers', () => {
  it('moves to the next server when one refuses connections, and stays there', async () => {
    const { url: dead } = await answer(200, '{}');
    const s = server!;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const { url: alive, seen } = await answer(200, JSON.stringify({ apiVersion: 'gantry/v1', kind: 'List', items: [], metadata: { revision: 7 } }));
    const client = createHttpClient({ server: `${dead}, ${alive}/`, token: 't' });
    expect(client.server).toBe(dead);
    expect((await client.list('Node')).revision).toBe(7);
    expect(client.server).toBe(alive);
    await client.list('Node');
    expect(seen).toHaveLength(2);
  });

  it('says which server it tried last when none answers', async () => {
    const { url: dead } = await answer(200, '{}');
    const s = server!;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const client = createHttpClient({ server: `${dead},${dead}`, token: 't' });
    const err = await client.list('Node').catch((e: unknown) => e);
    expect((err as Error).message).toContain(`cannot reach the Gantry server at ${dead}`);
  });

  it('refuses an empty server list with the flag to use', () => {
    expect(() => createHttpClient({ server: ' , ', token: 't' })).toThrow(/--server https:\/\/HOST:7070/);
  });
});

describe('read your writes', () => {
  it('sends the highest revision seen with reads when it knows several servers, and starts over after a 504', async () => {
    const seen: (string | undefined)[] = [];
    let revision = 7;
    let behind = false;
    server = http.createServer((req, res) => {
      seen.push(req.headers['gantry-min-revision'] as string | undefined);
      if (behind && req.headers['gantry-min-revision'] === '7') {
        res.writeHead(504, { 'content-type': 'application/json', 'gantry-revision': '3' }).end(JSON.stringify({ error: { code: 'TIMEOUT', message: 'behind' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'gantry-revision': String(revision) }).end(JSON.stringify({ apiVersion: 'gantry/v1', kind: 'List', items: [], metadata: { revision } }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const single = createHttpClient({ server: url, token: 't' });
    await single.list('Node');
    await single.list('Node');
    expect(seen).toEqual([undefined, undefined]); // one server: nothing to wait for
    seen.length = 0;
    const several = createHttpClient({ server: `${url},${url}`, token: 't' });
    await several.list('Node');
    await several.list('Node');
    expect(seen).toEqual([undefined, '7']);
    // The store was restored: revisions started over at 3. One 504, then it goes by the server's.
    seen.length = 0;
    behind = true;
    revision = 3;
    expect((await several.list('Node')).revision).toBe(3);
    expect(seen).toEqual(['7', '3']);
  });
});
