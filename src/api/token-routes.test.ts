// The token routes against the real app: a token is shown once and works at once, a revoke
// applies to the next request, expiry is honoured, whoami and can-i answer from the policies.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseToken, type CanIResult, type Token, type WhoAmI } from '../core/index.js';
import { aNamespace, startHarness, type Harness } from './test-helpers.js';

let h: Harness;
let clock = new Date('2026-12-04T12:00:00Z');
beforeEach(async () => {
  clock = new Date('2026-12-04T12:00:00Z');
  h = await startHarness({ now: () => clock });
  await h.call({ method: 'POST', url: '/api/v1/namespaces', payload: aNamespace('team-a') });
});
afterEach(async () => h.close());

async function create(body: Record<string, unknown>, token?: string) {
  return h.call({ method: 'POST', url: '/api/v1/auth/tokens', payload: { type: 'user', ...body }, ...(token ? { token } : {}) });
}
const whoami = async (token: string) => h.call({ method: 'GET', url: '/api/v1/auth/whoami', token });
const canI = async (token: string, q: string) => (await h.call({ method: 'GET', url: `/api/v1/auth/can-i?${q}`, token })).json<CanIResult>();

describe('token routes', () => {
  it('creates a token shown once, stores only its hash, and the token works at once', async () => {
    const res = await create({ user: 'alice', role: 'edit', namespaces: ['team-a'], ttlSeconds: 30 * 86_400 });
    expect(res.statusCode).toBe(201);
    const { token, object } = res.json<{ token: string; object: Token }>();
    expect(token).toMatch(/^gtu_[a-z0-9]{10}_[0-9a-f]{64}$/);
    expect(object.spec).toEqual({ type: 'user', user: 'alice', role: 'edit', namespaces: ['team-a'], expiresAt: '2027-01-03T12:00:00.000Z' });
    const stored = await h.store.get('Token', undefined, object.metadata.name);
    expect(stored?.spec.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(parseToken(token)?.secret);

    const me = await whoami(token);
    expect(me.statusCode).toBe(200);
    expect(me.json<WhoAmI>()).toEqual({
      principal: { kind: 'user', name: 'alice', role: 'edit', namespaces: ['team-a'], tokenId: object.metadata.name },
      description: 'user alice (edit in namespace team-a)',
      expiresAt: '2027-01-03T12:00:00.000Z',
    });
  });

  it('refuses a request that is not an admin, and an invalid one with field paths', async () => {
    const alice = (await create({ user: 'alice', role: 'edit', namespaces: ['*'] })).json<{ token: string }>().token;
    const byAlice = await create({ user: 'bob', role: 'admin', namespaces: ['*'] }, alice);
    expect(byAlice.statusCode).toBe(403);
    expect(byAlice.json<{ error: { message: string } }>().error.message).toMatch(/role admin is needed in every namespace/);
    expect((await create({ user: 'bob', role: 'view', namespaces: ['*'] }, await h.node('n1'))).statusCode).toBe(403);
    const bad = await create({ user: 'Bob!', role: 'root', namespaces: [] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<{ error: { details: { path: string }[] } }>().error.details.map((d) => d.path).sort()).toEqual(['namespaces', 'role', 'user']);
  });

  it('revokes at once and says so; revoking again changes nothing', async () => {
    const { token, object } = (await create({ user: 'alice', role: 'view', namespaces: ['*'] })).json<{ token: string; object: Token }>();
    expect((await whoami(token)).statusCode).toBe(200);
    const revoke = await h.call({ method: 'POST', url: `/api/v1/tokens/${object.metadata.name}/revoke`, payload: {} });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json<Token>().status?.revokedAt).toBe('2026-12-04T12:00:00.000Z');
    expect(revoke.body).not.toContain('secretHash');
    const after = await whoami(token);
    expect(after.statusCode).toBe(401);
    expect(after.json<{ error: { message: string } }>().error.message).toBe(`token ${object.metadata.name} was revoked at 2026-12-04T12:00:00.000Z`);
    const again = await h.call({ method: 'POST', url: `/api/v1/tokens/${object.metadata.name}/revoke`, payload: {} });
    expect(again.json<Token>().metadata.revision).toBe(revoke.json<Token>().metadata.revision);
    expect((await h.call({ method: 'POST', url: '/api/v1/tokens/nosuchtokn/revoke', payload: {} })).statusCode).toBe(404);
  });

  it('honours expiry', async () => {
    const { token } = (await create({ user: 'alice', role: 'view', namespaces: ['*'], ttlSeconds: 3600 })).json<{ token: string }>();
    expect((await whoami(token)).statusCode).toBe(200);
    clock = new Date(clock.getTime() + 3600_000);
    const expired = await whoami(token);
    expect(expired.statusCode).toBe(401);
    expect(expired.json<{ error: { message: string } }>().error.message).toMatch(/expired at 2026-12-04T13:00:00.000Z/);
  });

  it('answers can-i from the same policies the server enforces', async () => {
    const alice = (await create({ user: 'alice', role: 'edit', namespaces: ['team-a'] })).json<{ token: string }>().token;
    const vera = (await create({ user: 'vera', role: 'view', namespaces: ['*'] })).json<{ token: string }>().token;
    expect(await canI(alice, 'verb=apply&kind=service&namespace=team-a')).toEqual({ allowed: true, reason: 'user alice (edit in namespace team-a) may apply services in namespace team-a', route: 'services.apply' });
    expect(await canI(alice, 'verb=apply&kind=svc&namespace=team-b')).toMatchObject({ allowed: false, reason: expect.stringMatching(/role edit is needed in namespace team-b$/) as unknown });
    expect(await canI(vera, 'verb=delete&kind=secrets&namespace=team-a')).toMatchObject({ allowed: false });
    expect(await canI(vera, 'verb=logs&kind=instance&namespace=team-a')).toMatchObject({ allowed: true, route: 'instances.log' });
    expect(await canI(vera, 'verb=list&kind=tokens')).toMatchObject({ allowed: false, route: 'tokens.list' });
    expect(await canI(alice, 'verb=scale&kind=config')).toEqual({ allowed: false, reason: 'configs have no scale' });
    expect(await canI(alice, 'verb=list&kind=services&namespace=*')).toMatchObject({ allowed: true, reason: expect.stringMatching(/only in namespaces team-a/) as unknown });
    expect(await canI(await h.node('n1'), 'verb=apply&kind=service')).toMatchObject({ allowed: false });
    const unknown = await h.call({ method: 'GET', url: '/api/v1/auth/can-i?verb=frob&kind=service', token: alice });
    expect(unknown.statusCode).toBe(400);
    // The answer agrees with what the server does.
    const applied = await h.call({ method: 'PUT', url: '/api/v1/namespaces/team-b/services/web', payload: {}, token: alice });
    expect(applied.statusCode).toBe(403);
  });
});
