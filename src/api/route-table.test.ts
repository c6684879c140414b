// The route table: the app against the route registry (core/api/routes.ts). Every route the app
// serves is declared there, every declared route is served, and every route that is not public
// refuses no token, a wrong token, and a token of a kind its policy does not admit.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROUTES, NODE_ACTIONS, PUBLIC, ROLLOUT_ACTIONS, type Principal, type RouteSpec } from '../core/index.js';
import { mayCall } from './auth.js';
import { openApiPath } from './openapi.js';
import { requireRegistryRoutes, serve } from './serve-route.js';
import { ADMIN, aUserToken, startHarness, type Harness } from './test-helpers.js';

let h: Harness;
/** Every kind of credential, with the principal the server should make of it. */
const CREDENTIALS: { name: string; token: string; principal: Principal }[] = [];
beforeAll(async () => {
  h = await startHarness();
  const user = (name: string, role: 'view' | 'edit' | 'metrics' | 'admin', namespaces: string[] | '*'): Principal => ({ kind: 'user', name, role, namespaces, tokenId: '' });
  CREDENTIALS.push(
    { name: 'admin', token: ADMIN, principal: { kind: 'admin', name: 'admin' } },
    // A node's credential (there is no token for "any node"): bound to node n1.
    { name: 'node n1', token: await h.node('n1'), principal: { kind: 'node', name: 'n1', tokenId: '', address: '10.0.0.1', agentPort: 7071 } },
    { name: 'view everywhere', token: await aUserToken(h, 'vera', 'view'), principal: user('vera', 'view', '*') },
    { name: 'edit in default', token: await aUserToken(h, 'eddie', 'edit', ['default']), principal: user('eddie', 'edit', ['default']) },
    { name: 'edit elsewhere', token: await aUserToken(h, 'otto', 'edit', ['team-b']), principal: user('otto', 'edit', ['team-b']) },
    { name: 'metrics', token: await aUserToken(h, 'mia', 'metrics'), principal: user('mia', 'metrics', '*') },
  );
});
afterAll(async () => h.close());

/** A concrete URL for a route: its parameters filled with plausible values. */
function urlOf(route: RouteSpec): string {
  const action = route.id === 'nodes.action' ? NODE_ACTIONS[0] : ROLLOUT_ACTIONS[0];
  return route.path.replace(/:namespace/g, 'default').replace(/:action/g, action).replace(/:([A-Za-z]+)/g, 'x1');
}

const key = (method: string, url: string): string => `${method} ${url}`;

describe('the route table', () => {
  it('serves exactly the routes of the registry, each registered from its entry', () => {
    const served = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD');
    const declared = ALL_ROUTES.map((r) => key(r.method, r.path)).sort();
    expect(served.map((r) => key(r.method, r.url)).sort()).toEqual(declared);
    expect(new Set(declared).size).toBe(declared.length);
    expect(new Set(ALL_ROUTES.map((r) => r.id)).size).toBe(ALL_ROUTES.length);
    for (const r of served) expect(ALL_ROUTES.find((d) => d.id === r.routeId)?.path).toBe(r.url);
    expect(ALL_ROUTES.length).toBeGreaterThan(80);
  });

  it('refuses while building a route that has no registry entry', async () => {
    const app = Fastify();
    requireRegistryRoutes(app);
    serve(app, { id: 'test.declared', method: 'GET', path: '/declared', summary: 'x', access: PUBLIC }, async () => ({}));
    expect(() => app.get('/undeclared', async () => ({}))).toThrow(/GET \/undeclared has no entry in the route registry/);
    await app.close();
  });

  const guarded = ALL_ROUTES.filter((r) => !r.access.public);

  it.each(guarded.map((r) => [r.id, r] as const))('%s: 401 without a token and with a wrong one, 403 for a caller its policy does not admit', async (_id, route) => {
    const base = { method: route.method, url: urlOf(route), ...(route.body ? { payload: {} } : {}) };
    const none = await h.call({ ...base, token: null });
    expect(none.statusCode, 'no token').toBe(401);
    const wrong = await h.call({ ...base, token: 'not-a-token-of-this-cluster' });
    expect(wrong.statusCode, 'wrong token').toBe(401);
    const namespace = route.path.includes(':namespace') ? 'default' : undefined;
    for (const c of CREDENTIALS) {
      const res = await h.call({ ...base, token: c.token });
      if (mayCall(route.access, c.principal, namespace)) {
        // A node admitted by the policy is then held to its own objects by the node authorizer
        // (x1 is not node n1's): its 403 says so, never that the route is closed to nodes.
        const narrowed = c.principal.kind === 'node' && res.statusCode === 403;
        if (narrowed) expect(res.json<{ error: { message: string } }>().error.message, `${route.id} for ${c.name}`).toMatch(/^node n1 may not .*: a node reads and writes only its own Node/);
        else expect([401, 403], `${c.name} is admitted`).not.toContain(res.statusCode);
      } else {
        expect(res.statusCode, `${c.name} is not admitted`).toBe(403);
        const message = res.json<{ error: { message: string } }>().error.message;
        const byRole = !route.access.public && route.access.allow.some((a) => a === 'admin' || typeof a === 'object');
        if (c.principal.kind === 'user' && byRole) expect(message, c.name).toMatch(/^user \S+ \(.*\) may not .*: role (admin|edit|view|metrics) is needed/);
        else if (!route.access.public && route.access.forbidden) expect(message).toBe(route.access.forbidden);
      }
    }
  });

  // Watch streams (NDJSON) are the list routes with ?watch=1: refused before the stream starts.
  const watches = guarded.filter((r) => r.watch);
  it.each(watches.map((r) => [r.id, r] as const))('%s?watch=1: 401 without a token and with a wrong one, 403 for every caller its policy does not admit', async (_id, route) => {
    const url = `${urlOf(route)}?watch=1`;
    expect((await h.call({ method: 'GET', url, token: null })).statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url, token: 'gtu_aaaaaaaaaa_' + '0'.repeat(64) })).statusCode).toBe(401);
    const namespace = route.path.includes(':namespace') ? 'default' : undefined;
    const refused = CREDENTIALS.filter((c) => !mayCall(route.access, c.principal, namespace));
    expect(refused.length, 'some credential is of the wrong kind').toBeGreaterThan(0);
    for (const c of refused) expect((await h.call({ method: 'GET', url, token: c.token })).statusCode, c.name).toBe(403);
  });

  it('has a caller of the wrong kind for every guarded route but reads and node registration', () => {
    const admin = CREDENTIALS[0]?.principal;
    const agent = CREDENTIALS[1]?.principal;
    if (!admin || !agent) throw new Error('no credentials');
    const refusing = guarded.filter((r) => !mayCall(r.access, admin) || !mayCall(r.access, agent));
    const admitAll = guarded.filter((r) => !refusing.includes(r));
    expect(admitAll.filter((r) => r.method !== 'GET').map((r) => r.id)).toEqual(['nodes.create', 'nodes.apply']);
    expect(refusing.length).toBe(64);
  });

  it('refuses a ticket route without a valid ticket, whatever token is sent', async () => {
    const ticketed = ALL_ROUTES.filter((r) => r.access.public && 'ticket' in r.access);
    expect(ticketed.map((r) => r.id)).toEqual(['instances.execSession']);
    for (const route of ticketed) {
      for (const query of ['', '?ticket=forged.mac']) {
        const res = await h.call({ method: route.method, url: `${urlOf(route)}${query}`, token: CREDENTIALS[0]?.token ?? null });
        expect(res.statusCode, `${route.id} ${query}`).toBe(401);
      }
    }
  });

  it('lets public routes in without a token', async () => {
    for (const route of ALL_ROUTES.filter((r) => r.access.public && !('ticket' in r.access))) {
      const res = await h.call({ method: route.method, url: urlOf(route), token: null, ...(route.body ? { payload: {} } : {}) });
      // Reached without a token (the join route then reads its body: 422 for an empty one).
      expect([401, 403], route.id).not.toContain(res.statusCode);
    }
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('documents every route of the registry, with its access policy', async () => {
    const res = await h.call({ method: 'GET', url: '/api/v1/openapi.json', token: null });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { operationId: string; 'x-gantry-access': unknown }>>; components: { schemas: Record<string, unknown> } }>();
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ALL_ROUTES) {
      const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(op?.operationId, route.id).toBe(route.id);
      expect(op?.['x-gantry-access']).toEqual(route.access);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Service', 'Instance', 'Node', 'Error']));
    // Object schemas are components, referenced from the routes, not repeated in each.
    expect(JSON.stringify(doc.paths['/api/v1/namespaces/{namespace}/services/{name}']?.get)).toContain('"$ref":"#/components/schemas/Service"');
  });
});
