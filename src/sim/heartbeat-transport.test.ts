import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../core/index.js';
import { HeartbeatTransport } from './heartbeat-transport.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  remotePort: number | undefined;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A stand-in API server: 204 for known nodes, the API's 404 body for others. */
async function aServer(knownNodes: string[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, remotePort: req.socket.remotePort });
    const node = /^\/api\/v1\/nodes\/([^/]+)\/heartbeat$/.exec(req.url ?? '')?.[1];
    if (node && knownNodes.includes(node)) return void res.writeHead(204).end();
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `Node "${node ?? '?'}" not found` } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function aTransport(server: string): HeartbeatTransport {
  const t = new HeartbeatTransport({ server, token: 'agent-secret', timeoutMs: 2000 });
  cleanups.push(() => t.close());
  return t;
}

describe('HeartbeatTransport', () => {
  it('sends the request the client sends, and reuses one connection for successive heartbeats', async () => {
    const { url, seen } = await aServer(['hollow-01', 'hollow-02']);
    const t = aTransport(`${url}/`);
    await t.heartbeat('hollow-01');
    await t.heartbeat('hollow-02');
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', '/api/v1/nodes/hollow-01/heartbeat'],
      ['POST', '/api/v1/nodes/hollow-02/heartbeat'],
    ]);
    expect(seen[0]?.headers.authorization).toBe('Bearer agent-secret');
    expect(seen[1]?.remotePort).toBe(seen[0]?.remotePort);
  });

  it('rejects with NOT_FOUND when the server forgot the node, so the agent registers again', async () => {
    const { url } = await aServer([]);
    const err: unknown = await aTransport(url).heartbeat('gone-01').catch((e: unknown) => e);
    expect(isAppError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('gone-01');
  });

  it('rejects with UNAVAILABLE when nothing listens', async () => {
    const { url } = await aServer([]);
    await cleanups.shift()?.();
    const err: unknown = await aTransport(url).heartbeat('n1').catch((e: unknown) => e);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });
});
