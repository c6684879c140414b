// HttpTransport against real TLS servers: streams resume the server's TLS session (also across a
// restart with the same ticket keys), and a refused connection is not tried again for a moment.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterTls, type ClusterTls } from '../server/tls.js';
import { keepSessionTicketKeys, SESSION_TICKET_SECONDS } from '../server/session-tickets.js';
import { CallTimeout, HttpTransport } from './http-transport.js';
import { readText } from './stream-get.js';
import { REFUSAL_MEMORY_MS } from './origin-memo.js';

describe('HttpTransport over TLS', () => {
  let dir: string;
  let tls: ClusterTls;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-transport-'));
    tls = await ensureClusterTls(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A TLS server that answers whether the connection resumed a session; on `port` (0: any), with `certs` (default the cluster's). */
  async function serve(secret: string, port = 0, certs: { certPem: string; keyPem: string } = tls, sessionIdContext = 'gantry-api-test'): Promise<{ server: Server; url: URL; close: () => Promise<void> }> {
    const server = createServer({ cert: certs.certPem, key: certs.keyPem, sessionTimeout: SESSION_TICKET_SECONDS, sessionIdContext }, (req, res) => res.end(String((req.socket as TLSSocket).isSessionReused())));
    const stopKeys = keepSessionTicketKeys(server, secret);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return {
      server,
      url,
      close: () =>
        new Promise<void>((r) => {
          stopKeys();
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }

  async function streamResumed(transport: HttpTransport, url: URL): Promise<string> {
    const res = await transport.stream(url, {}, new AbortController().signal);
    expect(res.status).toBe(200);
    return readText(res.body);
  }

  it('resumes the last stream’s TLS session, also with a restarted server that has the same ticket keys', async () => {
    const transport = new HttpTransport({ tls: { ca: tls.caPem } });
    let s = await serve('secret-a');
    try {
      expect(await streamResumed(transport, s.url)).toBe('false');
      expect(await streamResumed(transport, s.url)).toBe('true');
      // A restart: a new server process on the same port, its ticket keys from the same secret.
      const port = Number(s.url.port);
      await s.close();
      s = await serve('secret-a', port);
      expect(await streamResumed(transport, s.url)).toBe('true');
      // A pooled call's new connection offers the same session (the transport's, not https.Agent's).
      expect((await transport.request(s.url, { method: 'GET', headers: { connection: 'close' }, timeoutMs: 5000 })).text).toBe('true');
      // The same keys but another session id context (Node's default differs with the command
      // line, so the API sets its own, session-tickets.ts): refused too.
      await s.close();
      s = await serve('secret-a', port, tls, 'another-context');
      expect(await streamResumed(transport, s.url)).toBe('false');
      // Other keys (another cluster's secret): the ticket is refused, a full (verified) handshake.
      await s.close();
      s = await serve('secret-b', port);
      expect(await streamResumed(transport, s.url)).toBe('false');
      expect(await streamResumed(transport, s.url)).toBe('true');
    } finally {
      await s.close();
      transport.close();
    }
  });

  it('sets up many streams at once a few per event-loop turn, and every one of them connects', async () => {
    const transport = new HttpTransport({ tls: { ca: tls.caPem }, streamsPerTurn: 2 });
    const s = await serve('secret-a');
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;
    try {
      const before = sockets();
      const streams = Array.from({ length: 20 }, () => transport.stream(s.url, {}, AbortSignal.timeout(10_000)));
      // Calls that go in this turn open their socket before stream() returns; the rest wait for later turns.
      expect(sockets() - before).toBe(2);
      const answers = await Promise.all(streams.map(async (p) => readText((await p).body)));
      expect(answers).toHaveLength(20);
      for (const a of answers) expect(['true', 'false']).toContain(a);
    } finally {
      await s.close();
      transport.close();
    }
  });

  it('still checks the certificate of a server it has no session with', async () => {
    const other = await mkdtemp(join(tmpdir(), 'gantry-transport-'));
    const s = await serve('secret-a');
    const transport = new HttpTransport({ tls: { ca: (await ensureClusterTls(other)).caPem } });
    try {
      await expect(transport.stream(s.url, {}, new AbortController().signal)).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)|signature/i);
    } finally {
      await s.close();
      transport.close();
      await rm(other, { recursive: true, force: true });
    }
  });

  it('checks the certificate again when a server with other keys and another CA stands at the same address', async () => {
    const other = await mkdtemp(join(tmpdir(), 'gantry-transport-'));
    const transport = new HttpTransport({ tls: { ca: tls.caPem } });
    let s = await serve('secret-a');
    try {
      await streamResumed(transport, s.url); // a session is kept now
      const port = Number(s.url.port);
      await s.close();
      s = await serve('stranger', port, await ensureClusterTls(other));
      await expect(transport.stream(s.url, {}, new AbortController().signal)).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)|signature/i);
    } finally {
      await s.close();
      transport.close();
      await rm(other, { recursive: true, force: true });
    }
  });

  it('fails at once, on no new connection, for a moment after the server refused one', async () => {
    let now = 0;
    const transport = new HttpTransport({ tls: { ca: tls.caPem }, now: () => now });
    // A port nothing listens on: taken, then given back.
    const probe = await serve('secret-a');
    const port = Number(probe.url.port);
    await probe.close();
    const url = probe.url;
    let s: Awaited<ReturnType<typeof serve>> | undefined;
    try {
      await expect(transport.request(url, { method: 'GET', headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      // An aborted stream fails as aborted, refusal or not.
      await expect(transport.stream(url, {}, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
      // The server is back at once, but within the window neither a call nor a stream tries it.
      s = await serve('secret-a', port);
      let connections = 0;
      s.server.on('connection', () => connections++);
      await expect(transport.request(url, { method: 'GET', headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/not tried again within 250 ms/) });
      await expect(transport.stream(url, {}, new AbortController().signal)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(connections).toBe(0);
      now += REFUSAL_MEMORY_MS;
      // One attempt probes; until its connection is made the others still fail at once.
      const probing = transport.request(url, { method: 'GET', headers: {}, timeoutMs: 5000 });
      await expect(transport.stream(url, {}, new AbortController().signal)).rejects.toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/another attempt is finding out/) });
      expect((await probing).status).toBe(200);
      expect(await streamResumed(transport, url)).toMatch(/^(true|false)$/);
      expect(connections).toBe(2);
    } finally {
      await s?.close();
      transport.close();
    }
  });

  it('ends the refusal once the probe’s TCP connection is made, before any answer; an aborted probe lets the next one go', async () => {
    let now = 0;
    const transport = new HttpTransport({ tls: { ca: tls.caPem }, now: () => now });
    // A server that takes connections and never says a word (not even TLS).
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    await new Promise<void>((r) => silent.close(() => r()));
    const url = new URL(`https://127.0.0.1:${port}/`);
    const call = (timeoutMs: number) => transport.request(url, { method: 'GET', headers: {}, timeoutMs });
    try {
      await expect(call(5000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      now += REFUSAL_MEMORY_MS;
      // A stream probes and is aborted before it connects: the next attempt may probe at once.
      const stop = new AbortController();
      const aborted = transport.stream(url, {}, stop.signal);
      stop.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
      // This call probes; its TCP connection is made, the answer never comes.
      const probe = call(60_000);
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20)); // the client hears of its connection
      // Nothing fails at once any more: a stream and a call go out (and time out on the silent server).
      const stream = expect(transport.stream(url, {}, AbortSignal.timeout(300))).rejects.toMatchObject({ name: expect.stringMatching(/AbortError|TimeoutError/) });
      await expect(call(300)).rejects.toBeInstanceOf(CallTimeout);
      await stream;
      expect(sockets.length).toBe(3);
      transport.close();
      await expect(probe).rejects.toBeDefined();
    } finally {
      transport.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
