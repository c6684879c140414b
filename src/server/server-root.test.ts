// startServer with the real store, API and controllers on a free loopback port.
import { Resolver } from 'node:dns/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import { isAppError } from '../core/index.js';
import { startServer } from './server-root.js';

/** Connects over TLS (verifying against `ca`), offering `session`; whether the server resumed it, and the session it gave. */
function tlsConnect(url: string, ca: string, session?: Buffer): Promise<{ resumed: boolean; session: Buffer | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let given: Buffer | undefined;
    const socket = connect({ host: hostname, port: Number(port), ca, servername: 'localhost', ...(session && { session }) }, () => {
      // A TLS 1.3 ticket comes just after the handshake: wait for it briefly.
      const resumed = socket.isSessionReused();
      const done = (): void => {
        socket.destroy();
        resolve({ resumed, session: given });
      };
      if (given) done();
      else {
        socket.once('session', done);
        setTimeout(done, 1000);
      }
    });
    socket.on('session', (s: Buffer) => (given = s));
    socket.on('error', reject);
  });
}
const tlsSession = async (url: string, ca: string): Promise<Buffer | undefined> => (await tlsConnect(url, ca)).session;
const tlsResumes = async (url: string, ca: string, session: Buffer | undefined): Promise<boolean> => (await tlsConnect(url, ca, session)).resumed;

describe('startServer', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gantry-server-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the API with the tokens it wrote, and keeps its identity across restarts', async () => {
    const logger = pino({ level: 'silent' });
    const first = await startServer({ dataDir, listen: '127.0.0.1:0', logger });
    let session: Buffer | undefined;
    try {
      expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await readFile(join(dataDir, 'admin.token'), 'utf8')).trim()).toBe(first.adminToken);
      const admin = createHttpClient({ server: first.url, token: first.adminToken, ca: first.tls?.ca.certPem });
      expect((await admin.version()).clusterId).toBe(first.clusterId);
      expect((await admin.list('Namespace')).items.map((n) => n.metadata.name)).toContain('default');
      const stranger = createHttpClient({ server: first.url, token: 'wrong', ca: first.tls?.ca.certPem });
      await expect(stranger.version()).rejects.toSatisfy((e: unknown) => isAppError(e, 'UNAUTHORIZED'));
      session = await tlsSession(first.url, first.tls!.ca.certPem);
    } finally {
      await first.close();
    }
    const second = await startServer({ dataDir, listen: '127.0.0.1:0', logger });
    try {
      expect([second.clusterId, second.adminToken]).toEqual([first.clusterId, first.adminToken]);
      expect(second.tls?.caFingerprint).toBe(first.tls?.caFingerprint);
      // A TLS session the first server gave resumes with the restarted one (session-tickets.ts).
      expect(session).toBeDefined();
      expect(await tlsResumes(second.url, second.tls!.ca.certPem, session)).toBe(true);
      expect((await readFile(join(dataDir, 'ticket.key'), 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
      // TLS 1.3 only: a TLS 1.2 client is refused in the handshake.
      const { hostname, port } = new URL(second.url);
      await expect(
        new Promise((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port), ca: second.tls!.ca.certPem, servername: 'localhost', maxVersion: 'TLSv1.2' }, () => resolve(socket.getProtocol()));
          socket.on('error', reject);
        }),
      ).rejects.toThrow(/protocol version|alert/i);
    } finally {
      await second.close();
    }
  });

  it('serves HTTPS that a client trusts only with the cluster CA', async () => {
    const logger = pino({ level: 'silent' });
    const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger, tls: { sans: ['gantry.test'] } });
    try {
      expect(server.tls?.caFingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8')).toBe(server.tls?.ca.certPem);
      const trusting = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
      expect((await trusting.version()).clusterId).toBe(server.clusterId);
      trusting.close();
      const blind = createHttpClient({ server: server.url, token: server.adminToken });
      await expect(blind.version()).rejects.toThrow(/a CA this client does not trust .*pass --ca <data dir>\/tls\/ca\.crt/);
      blind.close();
      const plain = createHttpClient({ server: server.url.replace('https:', 'http:'), token: server.adminToken });
      await expect(plain.version()).rejects.toSatisfy((e: unknown) => isAppError(e, 'UNAVAILABLE'));
      plain.close();
      const otherCa = await mkdtemp(join(tmpdir(), 'gantry-other-ca-'));
      try {
        const { ensureClusterTls } = await import('./tls.js');
        const stranger = createHttpClient({ server: server.url, token: server.adminToken, ca: (await ensureClusterTls(otherCa)).caPem });
        await expect(stranger.version()).rejects.toThrow(/the given CA did not issue/);
        stranger.close();
      } finally {
        await rm(otherCa, { recursive: true, force: true });
      }
    } finally {
      await server.close();
    }
  });

  it('refuses plain HTTP on a non-loopback address before touching anything, unless --insecure', async () => {
    const logger = pino({ level: 'silent' });
    await expect(startServer({ dataDir, listen: '0.0.0.0:0', logger, tls: false })).rejects.toThrow(/refusing to serve the API without TLS on 0\.0\.0\.0:0/);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dataDir)).toEqual([]);
    const lines: string[] = [];
    const recording = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const insecure = await startServer({ dataDir, listen: '0.0.0.0:0', logger: recording, tls: false, insecure: true });
    try {
      expect(insecure.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(insecure.tls).toBeUndefined();
      expect(lines.some((l) => l.includes('"level":40') && l.includes('clear text'))).toBe(true);
      const client = createHttpClient({ server: insecure.url, token: insecure.adminToken });
      expect((await client.version()).clusterId).toBe(insecure.clusterId);
      client.close();
    } finally {
      await insecure.close();
    }
    // Plain HTTP on loopback needs no --insecure.
    const local = await startServer({ dataDir, listen: '127.0.0.1:0', logger, tls: false });
    await local.close();
  });

  it('refuses a second start on the same data dir before touching it, and names the running one', async () => {
    const logger = pino({ level: 'silent' });
    const first = await startServer({ dataDir, listen: '127.0.0.1:0', logger });
    try {
      const port = new URL(first.url).port;
      // Same address: the listen check answers first.
      await expect(startServer({ dataDir, listen: `127.0.0.1:${port}`, logger })).rejects.toThrow(/127\.0\.0\.1:\d+ is already in use.*Nothing was started or changed/);
      // The lock names the owner (another process is refused: data-dir-lock.test.ts).
      expect((await readFile(join(dataDir, 'gantry.lock'), 'utf8')).trim()).toBe(String(process.pid));
      const admin = createHttpClient({ server: first.url, token: first.adminToken, ca: first.tls?.ca.certPem });
      expect((await admin.version()).clusterId).toBe(first.clusterId);
    } finally {
      await first.close();
    }
    await expect(readFile(join(dataDir, 'gantry.lock'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('closes the store when the port is taken', async () => {
    const logger = pino({ level: 'silent' });
    const first = await startServer({ dataDir, listen: '127.0.0.1:0', logger });
    try {
      const port = new URL(first.url).port;
      const other = await mkdtemp(join(tmpdir(), 'gantry-server-'));
      try {
        await expect(startServer({ dataDir: other, listen: `127.0.0.1:${port}`, logger })).rejects.toThrow(/EADDRINUSE/);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    } finally {
      await first.close();
    }
  });

  it('runs the DNS server on --dns-listen, serves endpoints from the catalog, and frees both on close', async () => {
    const logger = pino({ level: 'silent' });
    const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger, dnsListen: [{ host: '127.0.0.1', port: 0 }] });
    const dnsPort = server.dnsAddresses[0]?.port ?? 0;
    try {
      expect(dnsPort).toBeGreaterThan(0);
      const resolver = new Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([`127.0.0.1:${dnsPort}`]);
      await expect(resolver.resolve4('web.default.gantry')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      const admin = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
      expect((await admin.listEndpoints()).items).toEqual([]);
      // The port is taken while it runs: a second server says which flag to change, and cleans up.
      const other = await mkdtemp(join(tmpdir(), 'gantry-server-'));
      try {
        await expect(startServer({ dataDir: other, listen: '127.0.0.1:0', logger, dnsListen: [{ host: '127.0.0.1', port: dnsPort }] })).rejects.toThrow(/--dns-listen/);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    } finally {
      await server.close();
    }
    // Closed: the port can be bound again.
    const again = await startServer({ dataDir, listen: '127.0.0.1:0', logger, dnsListen: [{ host: '127.0.0.1', port: dnsPort }] });
    await again.close();
  });
});
