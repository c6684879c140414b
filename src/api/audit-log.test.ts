// The audit log against real files and the real app: which requests leave a line, what a line
// says, file modes, rotation by size, and GET /api/v1/audit with its filters.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../core/index.js';
import { aService } from '../core/test-builders.js';
import { AuditLog } from './audit-log.js';
import { aNamespace, aUserToken, startHarness, type Harness } from './test-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-audit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (n: number): AuditEntry => ({ time: new Date(n * 1000).toISOString(), user: `u${n % 3}`, principal: 'user', verb: 'apply', method: 'PUT', path: `/x/${n}`, remote: '127.0.0.1', status: 200 });

describe('AuditLog', () => {
  it('writes 0600 files in a 0700 directory, rotates by size and keeps the newest files', () => {
    const log = new AuditLog({ dir: join(dir, 'audit'), maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 40; i++) {
      log.record(entry(i));
      log.flush();
    }
    const files = readdirSync(join(dir, 'audit')).sort();
    expect(files).toHaveLength(3); // audit.log and the 2 newest rotated files
    expect(files).toContain('audit.log');
    expect(statSync(join(dir, 'audit')).mode & 0o777).toBe(0o700);
    for (const f of files) expect(statSync(join(dir, 'audit', f)).mode & 0o777).toBe(0o600);
    // What is left is the newest entries, in order, ending with the last.
    const paths = log.read().map((e) => e.path);
    expect(paths.at(-1)).toBe('/x/39');
    expect(paths.length).toBeLessThan(40);
    expect(paths).toEqual([...paths].sort((a, b) => Number(a.slice(3)) - Number(b.slice(3))));
    expect(log.read((e) => e.user === 'u0').every((e) => e.user === 'u0')).toBe(true);
  });

  it('buffers lines until the next tick', async () => {
    const log = new AuditLog({ dir });
    log.record(entry(1));
    log.record(entry(2));
    expect(readFileSync(join(dir, 'audit.log'), 'utf8')).toBe('');
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AuditEntry).path)).toEqual(['/x/1', '/x/2']);
  });
});

describe('the audit hook', () => {
  let h: Harness;
  let log: AuditLog;
  beforeEach(async () => {
    log = new AuditLog({ dir });
    h = await startHarness({ audit: log });
    await h.call({ method: 'POST', url: '/api/v1/namespaces', payload: aNamespace('team-a') });
  });
  afterEach(async () => h.close());

  it('records writes, Secret and log reads and refusals with who, what, where and the outcome; not other reads', async () => {
    const alice = await aUserToken(h, 'alice', 'edit', ['team-a']);
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/team-a/services/web', payload: aService('web', { namespace: 'team-a' }), token: alice });
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: aService('web'), token: alice });
    await h.call({ method: 'GET', url: '/api/v1/namespaces/team-a/services/web', token: alice });
    await h.call({ method: 'GET', url: '/api/v1/namespaces/team-a/secrets/db', token: alice });
    await h.call({ method: 'GET', url: '/api/v1/namespaces/team-a/instances/web-x/log', token: alice });
    await h.call({ method: 'GET', url: '/api/v1/services', token: 'nope' });
    await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
    log.flush();
    const lines = log.read((e) => e.verb !== 'create' || e.kind !== 'Namespace');
    const summary = lines.map((e) => `${e.user} ${e.verb} ${e.kind ?? '-'} ${e.namespace ?? '-'}/${e.name ?? '-'} ${e.status}`);
    expect(summary).toEqual([
      'alice apply Service team-a/web 201',
      'alice apply Service default/web 403',
      'alice get Secret team-a/db 404',
      'alice logs Instance team-a/web-x 404',
      '- list Service -/- 401',
    ]);
    expect(lines[0]).toMatchObject({ principal: 'user', role: 'edit', route: 'services.apply', method: 'PUT', path: '/api/v1/namespaces/team-a/services/web', remote: '127.0.0.1' });
    expect(Date.parse(lines[0]?.time ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers GET /api/v1/audit to admins, filtered by user and time, newest N', async () => {
    const alice = await aUserToken(h, 'alice', 'edit', ['team-a']);
    for (const name of ['a', 'b', 'c']) await h.call({ method: 'PUT', url: `/api/v1/namespaces/team-a/services/${name}`, payload: aService(name, { namespace: 'team-a' }), token: alice });
    const get = async (q: string, token?: string) => h.call({ method: 'GET', url: `/api/v1/audit${q}`, ...(token ? { token } : {}) });
    const mine = (await get('?user=alice')).json<{ items: AuditEntry[] }>().items;
    expect(mine.map((e) => e.name)).toEqual(['a', 'b', 'c']);
    expect((await get('?user=alice&limit=2')).json<{ items: AuditEntry[] }>().items.map((e) => e.name)).toEqual(['b', 'c']);
    expect((await get(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).json<{ items: AuditEntry[] }>().items).toEqual([]);
    expect((await get('?since=yesterday')).statusCode).toBe(400);
    expect((await get('', alice)).statusCode).toBe(403);
  });
});
