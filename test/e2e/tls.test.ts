// The API over TLS as a user meets it: `gantry server` makes a cluster CA, curl without that CA is
// refused, curl --cacert gets in, the CLI trusts the CA from the data dir, and plain HTTP on a
// non-loopback address is refused before anything listens.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('curl', ['--silent', '--show-error', '--max-time', '10', ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('the API over TLS', () => {
  let g: GantryProcesses;
  beforeAll(async () => {
    g = await GantryProcesses.create();
    await g.server(['--tls-san', 'gantry.test']);
  }, 90_000);
  afterAll(async () => {
    await g?.close();
  });

  it('made a CA and a server certificate in the data dir, keys 0600', () => {
    for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) expect(existsSync(join(g.dataDir, 'tls', f))).toBe(true);
    expect(statSync(join(g.dataDir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(g.dataDir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    expect(g.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(g.logOf('server')).toMatch(/CA: .*tls\/ca\.crt \(sha256 [0-9a-f]{64}\)/);
  });

  it('refuses curl without the CA and answers curl --cacert', async () => {
    const blind = await curl([`${g.url}/healthz`]);
    expect(blind.code).toBe(60); // curl: peer certificate cannot be authenticated with known CA certificates
    expect(blind.stdout).toBe('');
    const trusting = await curl(['--cacert', join(g.dataDir, 'tls', 'ca.crt'), `${g.url}/healthz`]);
    expect(trusting.code).toBe(0);
    expect(JSON.parse(trusting.stdout)).toEqual(expect.objectContaining({ ok: true }));
    // The certificate names --tls-san too: curl reaches it under that name (resolved to loopback).
    const port = new URL(g.url).port;
    const byName = await curl(['--cacert', join(g.dataDir, 'tls', 'ca.crt'), '--resolve', `gantry.test:${port}:127.0.0.1`, `https://gantry.test:${port}/healthz`]);
    expect(byName.code).toBe(0);
    const wrongName = await curl(['--cacert', join(g.dataDir, 'tls', 'ca.crt'), '--resolve', `other.test:${port}:127.0.0.1`, `https://other.test:${port}/healthz`]);
    expect(wrongName.code).not.toBe(0);
  });

  it('the CLI trusts the CA from the data dir, and without it says what to pass', async () => {
    const ok = await g.cli(['get', 'namespaces']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/default/);
    const elsewhere = await g.cli(['get', 'namespaces', '--data-dir', join(g.dataDir, 'nowhere')], { env: { GANTRY_TOKEN: g.token } });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/a CA this client does not trust .*pass --ca <data dir>\/tls\/ca\.crt/);
    const withCa = await g.cli(['get', 'namespaces', '--data-dir', join(g.dataDir, 'nowhere'), '--ca', join(g.dataDir, 'tls', 'ca.crt')], { env: { GANTRY_TOKEN: g.token } });
    expect(withCa.code).toBe(0);
  });

  it('renews the server certificate with the same CA', async () => {
    const caBefore = readFileSync(join(g.dataDir, 'tls', 'ca.crt'), 'utf8');
    const certBefore = readFileSync(join(g.dataDir, 'tls', 'server.crt'), 'utf8');
    const r = await g.cli(['cert', 'renew']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/names: localhost, 127\.0\.0\.1, ::1, gantry\.test/);
    expect(readFileSync(join(g.dataDir, 'tls', 'ca.crt'), 'utf8')).toBe(caBefore);
    expect(readFileSync(join(g.dataDir, 'tls', 'server.crt'), 'utf8')).not.toBe(certBefore);
  });
});

describe('plain HTTP', () => {
  it('is refused on a non-loopback address before anything listens, unless --insecure', async () => {
    const g = await GantryProcesses.create();
    try {
      const port = await freePort();
      const refused = await g.cli(['server', '--listen', `0.0.0.0:${port}`, '--no-tls']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to serve the API without TLS on 0.0.0.0:${port}, which is not a loopback address`);
      expect(existsSync(join(g.dataDir, 'state.db'))).toBe(false);
      // With --insecure it starts, and says what that costs.
      const insecure = g.spawn('insecure', ['server', '--listen', `0.0.0.0:${port}`, '--no-tls', '--insecure']);
      await waitFor('the insecure server to listen', async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(g.logOf('insecure')), 60_000);
      expect(g.logOf('insecure')).toMatch(/TLS is off \(--no-tls --insecure\).*clear text/);
      await g.stop(insecure);
      // On loopback, plain HTTP needs no --insecure; the CLI speaks it to an http:// address.
      await g.server(['--no-tls']);
      expect(g.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await g.cli(['get', 'namespaces'])).code).toBe(0);
    } finally {
      await g.close();
    }
  }, 90_000);
});
