import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureClusterTls } from '../server/index.js';
import { runCli } from './run-cli.js';
import { testContext } from './test-helpers.js';

describe('gantry cert renew', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gantry-cert-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('re-issues the server certificate from the same CA, keeping its names and adding --tls-san', async () => {
    const before = await ensureClusterTls(dataDir, { sans: ['10.0.0.9'] });
    const ctx = testContext();
    expect(await runCli(ctx, ['--data-dir', dataDir, 'cert', 'renew', '--tls-san', 'gantry.lan'])).toBe(0);
    expect(ctx.out).toContain(`renewed the server certificate ${join(dataDir, 'tls', 'server.crt')}`);
    expect(ctx.out).toContain('names: localhost, 127.0.0.1, ::1, 10.0.0.9, gantry.lan');
    expect(ctx.out).toContain(`CA:    unchanged (sha256 ${before.caFingerprint})`);
    const cert = new X509Certificate(await readFile(join(dataDir, 'tls', 'server.crt'), 'utf8'));
    expect(await readFile(join(dataDir, 'tls', 'server.key'), 'utf8')).not.toBe(before.keyPem);
    expect(cert.verify(new X509Certificate(before.caPem).publicKey)).toBe(true);
    expect(cert.checkHost('gantry.lan')).toBe('gantry.lan');
    expect(cert.checkIP('10.0.0.9')).toBe('10.0.0.9');
  });

  it('says what is missing in a data dir without a CA, and refuses other actions', async () => {
    const ctx = testContext();
    expect(await runCli(ctx, ['--data-dir', dataDir, 'cert', 'renew'])).toBe(1);
    expect(ctx.err).toMatch(/has no ca\.crt and ca\.key: start the server once/);
    const other = testContext();
    expect(await runCli(other, ['--data-dir', dataDir, 'cert', 'rotate'])).toBe(1);
    expect(other.err).toContain('unknown cert action "rotate": use renew');
  });
});
