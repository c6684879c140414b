import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-helpers.js';

let dir: string;
let h: Harness;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1.js"></script>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  h = await startHarness({ consoleDir: dir });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the console route', () => {
  it('serves index.html at / and at any page path, without a token, with a strict CSP', async () => {
    for (const url of ['/', '/services', '/ns/default/services/web']) {
      const r = await h.call({ method: 'GET', url, token: null });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      expect(r.body).toContain('/assets/app-1.js');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
  });

  it('serves hashed assets as immutable and refuses paths outside its folder', async () => {
    const asset = await h.call({ method: 'GET', url: '/assets/app-1.js', token: null });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await h.call({ method: 'GET', url: '/assets/missing.js', token: null })).statusCode).toBe(404);
    const escape = await h.call({ method: 'GET', url: '/..%2f..%2fetc%2fpasswd', token: null });
    expect(escape.body).not.toContain('root:');
  });

  it('leaves unknown API paths to the API: 401 without a token, 404 JSON with one', async () => {
    expect((await h.call({ method: 'GET', url: '/api/v1/nothing-here', token: null })).statusCode).toBe(401);
    const r = await h.call({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('says how to build the console when it is not built', async () => {
    const bare = await startHarness({ consoleDir: join(dir, 'missing') });
    try {
      const r = await bare.call({ method: 'GET', url: '/', token: null });
      expect(r.statusCode).toBe(404);
      expect(r.body).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});
