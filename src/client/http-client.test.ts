import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError, isAppError } from '../core/index.js';
import { collectionPath, createHttpClient, objectPath } from './http-client.js';

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
    const { url, seen } = await answer(200, JSON.stringify({ kind: 'Service' }), { 'content-type': 'application/json', 'x-gantry-result': 'unchanged' });
    const client = createHttpClient({ server: `${url}/`, token: 'secret' });
    const manifest = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web' }, spec: { containers: [{ name: 'm', image: 'i' }] } } as const;
    const { result } = await client.apply(manifest as never);
    expect(result).toBe('unchanged');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', auth: 'Bearer secret' });
    expect(JSON.parse(seen[0]!.body)).toEqual(manifest);
  });

  it('posts a heartbeat without a body', async () => {
    const { url, seen } = await answer(204, '');
    await createHttpClient({ server: url, token: 't' }).heartbeat('n1');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', body: '' });
  });

  it('passes selectors on lists', async () => {
    const { url, seen } = await answer(200, JSON.stringify({ items: [], metadata: { revision: 7 } }));
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

describe('timeouts', () => {
  it('leaves no deadline behind after a fast call (thousands of heartbeats a second in gantry sim)', async () => {
    const { url } = await answer(204, '');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      await createHttpClient({ server: url, token: 't', timeoutMs: 50 }).heartbeat('n1');
      const signal = fetchSpy.mock.calls[0]?.[1]?.signal;
      expect(signal).toBeInstanceOf(AbortSignal);
      await new Promise((r) => setTimeout(r, 120));
      expect(signal?.aborted).toBe(false); // the timer was cleared when the call finished
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('still gives up on a server that does not answer, naming the call and the timeout', async () => {
    const silent = http.createServer(() => undefined); // reads the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const err = await createHttpClient({ server: url, token: 't', timeoutMs: 100 }).version().catch((e: unknown) => e);
      expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
      expect((err as AppError).message).toBe(`the Gantry server at ${url} did not answer GET /api/v1/version within 100 ms`);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
