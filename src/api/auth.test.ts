// People's tokens against the real app: authentication from Token objects (revoked, expired, of
// another type, a wrong secret), roles that nest, namespaces that scope them, and 403 messages
// that name the role and the namespace.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatToken, parseToken, type Token } from '../core/index.js';
import { aService } from '../core/test-builders.js';
import { aNamespace, aUserToken, startHarness, type Harness } from './test-helpers.js';
import { issueToken } from './token-issue.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  for (const ns of ['team-a', 'team-b']) expect((await h.call({ method: 'POST', url: '/api/v1/namespaces', payload: aNamespace(ns) })).statusCode).toBe(201);
});
afterEach(async () => h.close());

const svcUrl = (ns: string, name = 'web'): string => `/api/v1/namespaces/${ns}/services/${name}`;
const message = (res: { json: <T>() => T }): string => res.json<{ error: { message: string } }>().error.message;

async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('people tokens', () => {
  it('lets an edit token write in its namespace only, and says which role is needed where', async () => {
    const alice = await aUserToken(h, 'alice', 'edit', ['team-a']);
    expect((await h.call({ method: 'PUT', url: svcUrl('team-a'), payload: aService('web', { namespace: 'team-a' }), token: alice })).statusCode).toBe(201);
    const elsewhere = await h.call({ method: 'PUT', url: svcUrl('team-b'), payload: aService('web', { namespace: 'team-b' }), token: alice });
    expect(elsewhere.statusCode).toBe(403);
    expect(message(elsewhere)).toBe('user alice (edit in namespace team-a) may not PUT /api/v1/namespaces/team-b/services/web: role edit is needed in namespace team-b');
    // Reads too are scoped; cluster administration is not hers at all.
    expect((await h.call({ method: 'GET', url: svcUrl('team-b'), token: alice })).statusCode).toBe(403);
    const nodeAction = await h.call({ method: 'POST', url: '/api/v1/nodes/n1/cordon', payload: {}, token: alice });
    expect(nodeAction.statusCode).toBe(403);
    expect(message(nodeAction)).toMatch(/role admin is needed in every namespace/);
  });

  it('lets a view token read but not write', async () => {
    await h.call({ method: 'PUT', url: svcUrl('team-a'), payload: aService('web', { namespace: 'team-a' }) });
    const vera = await aUserToken(h, 'vera', 'view', ['team-a']);
    expect((await h.call({ method: 'GET', url: svcUrl('team-a'), token: vera })).statusCode).toBe(200);
    const write = await h.call({ method: 'PUT', url: `${svcUrl('team-a')}/scale`, payload: { replicas: 3 }, token: vera });
    expect(write.statusCode).toBe(403);
    expect(message(write)).toMatch(/role edit is needed in namespace team-a$/);
    // A metrics token is below view: no object reads.
    const mia = await aUserToken(h, 'mia', 'metrics');
    expect((await h.call({ method: 'GET', url: svcUrl('team-a'), token: mia })).statusCode).toBe(403);
  });

  it('filters lists across namespaces to the namespaces of the token', async () => {
    for (const ns of ['team-a', 'team-b']) await h.call({ method: 'PUT', url: svcUrl(ns), payload: aService('web', { namespace: ns }) });
    const alice = await aUserToken(h, 'alice', 'view', ['team-a']);
    const services = await h.call({ method: 'GET', url: '/api/v1/services', token: alice });
    expect(services.json<{ items: { metadata: { namespace: string } }[] }>().items.map((i) => i.metadata.namespace)).toEqual(['team-a']);
    const namespaces = await h.call({ method: 'GET', url: '/api/v1/namespaces', token: alice });
    expect(namespaces.json<{ items: { metadata: { name: string } }[] }>().items.map((i) => i.metadata.name)).toEqual(['team-a']);
    // The admin sees both.
    expect((await h.call({ method: 'GET', url: '/api/v1/services' })).json<{ items: unknown[] }>().items).toHaveLength(2);
  });

  it('refuses a revoked token on the next request, an expired one, a wrong secret and a token of another type', async () => {
    const alice = await aUserToken(h, 'alice', 'edit');
    const id = parseToken(alice)?.id ?? '';
    const get = (token: string) => h.call({ method: 'GET', url: svcUrl('team-a'), token });
    expect((await get(alice)).statusCode).toBe(404);

    const wrongSecret = formatToken({ type: 'user', id, secret: '0'.repeat(64) });
    expect((await get(wrongSecret)).statusCode).toBe(401);
    const asNode = formatToken({ type: 'node', id, secret: parseToken(alice)?.secret ?? '' });
    expect((await get(asNode)).statusCode).toBe(401);

    const stored = await h.store.get('Token', undefined, id);
    if (!stored) throw new Error('no token');
    await h.store.update<Token>({ ...stored, status: { revokedAt: '2026-01-01T00:00:00.000Z' } });
    await until(async () => (await get(alice)).statusCode === 401);
    const revoked = await get(alice);
    expect(revoked.statusCode).toBe(401);
    expect(message(revoked)).toBe(`token ${id} was revoked at 2026-01-01T00:00:00.000Z`);

    const old = issueToken({ type: 'user', user: 'bob', role: 'view', namespaces: ['*'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    await h.store.create(old.manifest);
    await until(async () => message(await get(old.token)).includes('expired'));
    expect(message(await get(old.token))).toMatch(new RegExp(`^token ${old.manifest.metadata.name} expired at `));
  });

  it('answers Token objects to administrators only, and never their secretHash', async () => {
    const alice = await aUserToken(h, 'alice', 'edit');
    const id = parseToken(alice)?.id ?? '';
    const asAdmin = await h.call({ method: 'GET', url: `/api/v1/tokens/${id}` });
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json<Token>().spec).toEqual({ type: 'user', user: 'alice', role: 'edit', namespaces: ['*'] });
    expect(JSON.stringify((await h.call({ method: 'GET', url: '/api/v1/tokens' })).json())).not.toContain('secretHash');
    // An edit user in every namespace is still not a cluster administrator; nor is the agent token.
    expect((await h.call({ method: 'GET', url: `/api/v1/tokens/${id}`, token: alice })).statusCode).toBe(403);
    expect((await h.call({ method: 'GET', url: '/api/v1/tokens', token: await h.node('n1') })).statusCode).toBe(403);
    // Nobody writes tokens through the generic routes.
    const { manifest } = issueToken({ type: 'user', user: 'mallory', role: 'admin', namespaces: ['*'] });
    const forged = await h.call({ method: 'PUT', url: `/api/v1/tokens/${manifest.metadata.name}`, payload: manifest });
    expect(forged.statusCode).toBe(403);
    expect(message(forged)).toMatch(/gantry token create/);
  });

  it('makes an admin user in every namespace a cluster administrator', async () => {
    const root = await aUserToken(h, 'root', 'admin');
    expect((await h.call({ method: 'GET', url: '/api/v1/tokens', token: root })).statusCode).toBe(200);
    const scoped = await aUserToken(h, 'scoped', 'admin', ['team-a']);
    expect((await h.call({ method: 'GET', url: '/api/v1/tokens', token: scoped })).statusCode).toBe(403);
    expect((await h.call({ method: 'PUT', url: svcUrl('team-a'), payload: aService('web', { namespace: 'team-a' }), token: scoped })).statusCode).toBe(201);
  });
});
