import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caFingerprint, ensureClusterTls, issueCertificate, loadCertificateAuthority, renewServerCertificate, sansOf } from './tls.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (file: string): Promise<number> => (await stat(join(dir, 'tls', file))).mode & 0o777;

describe('ensureClusterTls', () => {
  it('makes a CA and a server certificate that verifies against it, with the loopback names and the asked ones', async () => {
    const tls = await ensureClusterTls(dir, { sans: ['gantry.example', '10.1.2.3'] });
    const ca = new X509Certificate(tls.caPem);
    const cert = new X509Certificate(tls.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(sansOf(cert).sort()).toEqual(['dns:gantry.example', 'dns:localhost', 'ip:10.1.2.3', 'ip:127.0.0.1', 'ip:::1'].sort());
    expect(cert.checkHost('gantry.example')).toBe('gantry.example');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('10.9.9.9')).toBeUndefined();
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('keeps its keys 0600 and reads the same CA back: the fingerprint is stable', async () => {
    const first = await ensureClusterTls(dir);
    expect(await mode('ca.key')).toBe(0o600);
    expect(await mode('server.key')).toBe(0o600);
    expect((await stat(join(dir, 'tls'))).mode & 0o777).toBe(0o700);
    const again = await ensureClusterTls(dir);
    expect(again.caFingerprint).toBe(first.caFingerprint);
    expect(again.certPem).toBe(first.certPem);
    expect(first.caFingerprint).toMatch(/^[0-9a-f]{64}$/);
    // The same digest openssl and Node print (colons aside).
    expect(first.caFingerprint).toBe(new X509Certificate(first.caPem).fingerprint256.replaceAll(':', '').toLowerCase());
    expect(caFingerprint(await readFile(join(dir, 'tls', 'ca.crt'), 'utf8'))).toBe(first.caFingerprint);
  });

  it('re-issues the server certificate (same CA) when a new SAN is asked or it nears its end', async () => {
    const first = await ensureClusterTls(dir);
    const withSan = await ensureClusterTls(dir, { sans: ['10.0.0.7'] });
    expect(withSan.certPem).not.toBe(first.certPem);
    expect(withSan.caFingerprint).toBe(first.caFingerprint);
    expect(new X509Certificate(withSan.certPem).checkIP('10.0.0.7')).toBe('10.0.0.7');
    // The same SAN again: nothing to do.
    expect((await ensureClusterTls(dir, { sans: ['10.0.0.7'] })).certPem).toBe(withSan.certPem);
    const inElevenMonths = new Date(Date.now() + 340 * 24 * 3600 * 1000);
    const late = await ensureClusterTls(dir, { sans: ['10.0.0.7'], now: inElevenMonths });
    expect(late.certPem).not.toBe(withSan.certPem);
    expect(late.caFingerprint).toBe(first.caFingerprint);
  });

  it('refuses a data dir whose CA key is there without its certificate', async () => {
    await ensureClusterTls(dir);
    await rm(join(dir, 'tls', 'ca.crt'));
    await expect(ensureClusterTls(dir)).rejects.toThrow(/ca\.key but no ca\.crt/);
  });

  it('renews the server certificate with a new key from the same CA', async () => {
    const first = await ensureClusterTls(dir, { sans: ['10.0.0.9'] });
    const renewed = await renewServerCertificate(dir, { sans: ['node-a.lan'] });
    // The names the old certificate had stay.
    expect(new X509Certificate(renewed.certPem).checkIP('10.0.0.9')).toBe('10.0.0.9');
    expect(renewed.sans).toEqual(['localhost', '127.0.0.1', '::1', '10.0.0.9', 'node-a.lan']);
    expect(renewed.keyPem).not.toBe(first.keyPem);
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect(await readFile(join(dir, 'tls', 'server.crt'), 'utf8')).toBe(renewed.certPem);
    expect(new X509Certificate(renewed.certPem).checkHost('node-a.lan')).toBe('node-a.lan');
    expect(renewed.notAfter.getTime()).toBeGreaterThan(Date.now() + 360 * 24 * 3600 * 1000);
    await writeFile(join(dir, 'tls', 'ca.key'), ''); // an emptied key is not a CA
    await expect(renewServerCertificate(dir)).rejects.toThrow();
  });
});

describe('issueCertificate', () => {
  it('issues client certificates for clientAuth with the name in the subject', async () => {
    await ensureClusterTls(dir);
    const ca = await loadCertificateAuthority(dir);
    const client = await issueCertificate(ca, { commonName: 'node-a', usage: 'client' });
    const cert = new X509Certificate(client.certPem);
    expect(cert.subject).toBe('CN=node-a');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(sansOf(cert)).toEqual([]);
  });

  it('makes certificates a real TLS handshake accepts with the CA and refuses without it', async () => {
    const tls = await ensureClusterTls(dir);
    const ca = await loadCertificateAuthority(dir);
    const client = await issueCertificate(ca, { commonName: 'gantry-server', usage: 'client' });
    const server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`hello ${String(peer.subject.CN)}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (opts: { ca?: string; cert?: string; key?: string; host?: string }): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', servername: opts.host ?? 'localhost', ...opts }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get({ ca: tls.caPem, cert: client.certPem, key: client.keyPem })).toBe('hello gantry-server');
      await expect(get({ cert: client.certPem, key: client.keyPem })).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)/i);
      // The server asks for a client certificate: a caller without one is refused in the handshake.
      await expect(get({ ca: tls.caPem })).rejects.toThrow();
      // A certificate from another CA is refused too.
      const other = await mkdtemp(join(tmpdir(), 'gantry-tls-other-'));
      try {
        await ensureClusterTls(other);
        const stranger = await issueCertificate(await loadCertificateAuthority(other), { commonName: 'x', usage: 'client' });
        await expect(get({ ca: tls.caPem, cert: stranger.certPem, key: stranger.keyPem })).rejects.toThrow();
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
