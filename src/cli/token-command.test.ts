import { describe, expect, it } from 'vitest';
import type { TokenCreate } from '../core/index.js';
import { API_VERSION, type CanIResult, type Token } from '../core/index.js';
import { runCli } from './run-cli.js';
import { ago, fakeClient, NOW, testContext } from './test-helpers.js';
import { parseTtl } from './token-command.js';

const env = { GANTRY_TOKEN: 't0k3n' };

function aToken(name: string, spec: Partial<Token['spec']>, status: Token['status'] = {}, age = 60): Token {
  return {
    apiVersion: API_VERSION,
    kind: 'Token',
    metadata: { name, uid: `uid-${name}`, revision: 3, createdAt: ago(age) },
    spec: { type: 'user', secretHash: '', ...spec },
    status,
  };
}

describe('gantry token', () => {
  it('create sends the request and prints the token alone on stdout, what it is on stderr', async () => {
    const sent: TokenCreate[] = [];
    const client = fakeClient({
      issueToken: (req: TokenCreate) => {
        sent.push(req);
        return Promise.resolve({ token: 'gtu_abcdefghij_00', object: aToken('abcdefghij', { user: 'alice', role: 'edit', namespaces: ['team-a', 'team-b'], expiresAt: '2025-01-31T12:00:00.000Z' }) });
      },
    });
    const ctx = testContext({ env, client });
    expect(await runCli(ctx, ['token', 'create', '--user', 'alice', '--role', 'edit', '--namespace', 'team-a', '-n', 'team-b', '--ttl', '30d'])).toBe(0);
    expect(sent).toEqual([{ type: 'user', user: 'alice', role: 'edit', namespaces: ['team-a', 'team-b'], ttlSeconds: 30 * 86_400 }]);
    expect(ctx.out).toBe('gtu_abcdefghij_00\n');
    expect(ctx.err).toContain('token/abcdefghij created: user alice, role edit in namespace team-a, team-b, expires 2025-01-31T12:00:00.000Z');
  });

  it('create refuses a role, a ttl or a missing namespace before calling the server', async () => {
    for (const args of [['--role', 'root', '-n', 'a'], ['--role', 'view', '-n', 'a', '--ttl', '5x'], ['--role', 'view']]) {
      const ctx = testContext({ env });
      expect(await runCli(ctx, ['token', 'create', '--user', 'alice', ...args])).toBe(1);
      expect(ctx.err).toMatch(/--role "root"|--ttl "5x"|--namespace is required/);
      expect(ctx.connections).toHaveLength(0);
    }
  });

  it('list shows each token with its state, never a secret', async () => {
    const items = [
      aToken('aaaaaaaaaa', { user: 'alice', role: 'edit', namespaces: ['team-a'] }, { lastUsedAt: ago(3) }, 120),
      aToken('bbbbbbbbbb', { user: 'bob', role: 'view', namespaces: ['*'] }, { revokedAt: ago(5) }, 60),
      aToken('cccccccccc', { user: 'carol', role: 'metrics', namespaces: ['*'], expiresAt: ago(1) }, {}, 30),
    ];
    const ctx = testContext({ env, client: fakeClient({ list: (() => Promise.resolve({ items, revision: 9 })) as never }) });
    expect(await runCli(ctx, ['token', 'list'])).toBe(0);
    const lines = ctx.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+SUBJECT\s+ROLE\s+NAMESPACES\s+EXPIRES\s+STATE\s+LAST USED\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[6])).toEqual(['active', 'revoked', 'expired']);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(7, -1).join(' '))).toEqual(['3s ago', '-', '-']);
  });

  it('revoke names the token and when', async () => {
    const ctx = testContext({ env, client: fakeClient({ revokeToken: (id: string) => Promise.resolve(aToken(id, {}, { revokedAt: NOW.toISOString() })) }) });
    expect(await runCli(ctx, ['token', 'revoke', 'aaaaaaaaaa'])).toBe(0);
    expect(ctx.out).toBe(`token/aaaaaaaaaa revoked (at ${NOW.toISOString()})\n`);
  });

  it('parses ttls', () => {
    expect(parseTtl('90m')).toBe(5400);
    expect(parseTtl('2w')).toBe(14 * 86_400);
    expect(() => parseTtl('0d')).toThrow(/not a duration/);
  });
});

describe('gantry auth', () => {
  it('can-i prints yes (exit 0) or no with the reason (exit 1), asking in the namespace given', async () => {
    const asked: (string | undefined)[][] = [];
    const answer = (allowed: boolean): CanIResult => ({ allowed, reason: allowed ? 'ok' : 'user alice (edit in namespace team-a) may not apply services in namespace team-b: role edit is needed in namespace team-b' });
    const client = fakeClient({
      canI: (verb: string, kind: string, ns?: string) => {
        asked.push([verb, kind, ns]);
        return Promise.resolve(answer(ns === 'team-a'));
      },
    });
    const yes = testContext({ env, client });
    expect(await runCli(yes, ['auth', 'can-i', 'apply', 'service', '-n', 'team-a'])).toBe(0);
    expect(yes.out).toBe('yes\n');
    const no = testContext({ env, client });
    expect(await runCli(no, ['auth', 'can-i', 'apply', 'service', '-n', 'team-b'])).toBe(1);
    expect(no.out).toMatch(/^no: .*role edit is needed in namespace team-b\n$/);
    expect(await runCli(testContext({ env, client }), ['auth', 'can-i', 'list', 'services', '-A'])).toBe(1);
    expect(asked).toEqual([['apply', 'service', 'team-a'], ['apply', 'service', 'team-b'], ['list', 'services', '*']]);
  });

  it('whoami prints who the token stands for', async () => {
    const client = fakeClient({
      whoami: () => Promise.resolve({ principal: { kind: 'user', name: 'alice', role: 'edit', namespaces: ['team-a'], tokenId: 'abcdefghij' }, description: 'user alice (edit in namespace team-a)', expiresAt: '2025-02-01T00:00:00.000Z' }),
    });
    const ctx = testContext({ env, client });
    expect(await runCli(ctx, ['auth', 'whoami'])).toBe(0);
    expect(ctx.out).toBe('user alice (edit in namespace team-a), token abcdefghij, expires 2025-02-01T00:00:00.000Z\n');
  });
});

describe('gantry audit', () => {
  it('asks for the user and the time since, and prints a table of entries', async () => {
    const asked: unknown[] = [];
    const client = fakeClient({
      audit: (q: { user?: string | undefined; since?: string | undefined; limit?: number | undefined }) => {
        asked.push(q);
        return Promise.resolve([
          { time: ago(30), user: 'alice', principal: 'user', verb: 'apply', kind: 'Service', namespace: 'team-b', name: 'web', method: 'PUT', path: '/api/v1/namespaces/team-b/services/web', remote: '10.0.0.5', status: 403 },
        ]);
      },
    });
    const ctx = testContext({ env, client });
    expect(await runCli(ctx, ['audit', '--user', 'alice', '--since', '1h'])).toBe(0);
    expect(asked).toEqual([{ user: 'alice', since: ago(3600), limit: 1000 }]);
    expect(ctx.out.split('\n')[1]).toMatch(/^\S+\s+alice\s+apply\s+service\/team-b\/web\s+403\s+10\.0\.0\.5$/);
    expect(await runCli(testContext({ env, client }), ['audit', '--since', 'soon'])).toBe(1);
  });
});
