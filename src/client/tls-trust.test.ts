import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterTls } from '../server/tls.js';
import { HttpTransport } from './http-transport.js';
import { tlsConnectOptions } from './tls-trust.js';

describe('tlsConnectOptions', () => {
  it('builds no SecureContext without a trust (the system roots, as before)', () => {
    expect(tlsConnectOptions(undefined)).toEqual({});
    expect(tlsConnectOptions({ ca: undefined, cert: undefined, key: undefined })).toEqual({});
  });

  describe('against a real TLS server', () => {
    const dirs: string[] = [];
    let url: URL;
    let caPem: string;
    let strangerCa: string;
    let close: () => Promise<void>;

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'gantry-tls-trust-')));
      const tls = await ensureClusterTls(dirs[0]!);
      caPem = tls.caPem;
      strangerCa = (await ensureClusterTls(dirs[1]!)).caPem;
      const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('hello'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      close = () => new Promise<void>((r) => server.close(() => r()));
    });
    afterAll(async () => {
      await close();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    it('reuses the context for every call and stream, and still verifies the server against the CA', async () => {
      const trust = { ca: caPem };
      const first = tlsConnectOptions(trust).secureContext;
      expect(first).toBeDefined();
      expect(tlsConnectOptions(trust).secureContext).toBe(first);
      expect(tlsConnectOptions({ ca: caPem }).secureContext).not.toBe(first);

      const transport = new HttpTransport({ tls: trust });
      // The pool's connections are made with that context (not with the PEMs, one context each).
      const agentOptions = (transport as unknown as { httpsAgent: { options: Record<string, unknown> } }).httpsAgent.options;
      expect(agentOptions.secureContext).toBe(first);
      expect(agentOptions.ca).toBeUndefined();
      try {
        // Two pooled calls and a stream: each connection is verified, none builds a context of its own.
        for (let i = 0; i < 2; i++) expect((await transport.request(url, { method: 'GET', headers: { connection: 'close' }, timeoutMs: 5000 })).text).toBe('hello');
        const stop = new AbortController();
        const stream = await transport.stream(url, {}, stop.signal);
        expect(stream.status).toBe(200);
        stop.abort();
      } finally {
        transport.close();
      }
      expect(tlsConnectOptions(trust).secureContext).toBe(first);
    });

    it('refuses a server whose certificate another CA issued', async () => {
      const transport = new HttpTransport({ tls: { ca: strangerCa } });
      try {
        await expect(transport.request(url, { method: 'GET', headers: {}, timeoutMs: 5000 })).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)|signature/i);
        await expect(transport.stream(url, {}, new AbortController().signal)).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)|signature/i);
      } finally {
        transport.close();
      }
    });
  });
});
