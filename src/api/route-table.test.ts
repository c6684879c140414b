// The route table: the app against the route registry (core/api/routes.ts). Every route the app
// serves is declared there, every declared route is served, and every route that is not public
// refuses no token, a wrong token, and a token of a kind its policy does not admit.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROUTES, NODE_ACTIONS, PUBLIC, ROLLOUT_ACTIONS, type RouteSpec } from '../core/index.js';
import { mayCall, type Role } from './auth.js';
import { openApiPath } from './openapi.js';
import { requireRegistryRoutes, serve } from './serve-route.js';
import { ADMIN, AGENT, startHarness, type Harness } from './test-helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const TOKENS: Record<Role, string> = { admin: ADMIN, agent: AGENT };

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
    for (const role of ['admin', 'agent'] as const) {
      const res = await h.call({ ...base, token: TOKENS[role] });
      if (mayCall(route.access, role)) expect([401, 403], `${role} is admitted`).not.toContain(res.statusCode);
      else {
        expect(res.statusCode, `${role} is not admitted`).toBe(403);
        if (!route.access.public && route.access.forbidden) expect(res.json<{ error: { message: string } }>().error.message).toBe(route.access.forbidden);
      }
    }
  });

  it('has a caller of the wrong kind for every guarded route but reads and node registration', () => {
    const refusing = guarded.filter((r) => !mayCall(r.access, 'admin') || !mayCall(r.access, 'agent'));
    const admitAll = guarded.filter((r) => !refusing.includes(r));
    expect(admitAll.filter((r) => r.method !== 'GET').map((r) => r.id)).toEqual(['nodes.create', 'nodes.apply']);
    expect(refusing.length).toBe(49);
  });

  it('lets public routes in without a token', async () => {
    for (const route of ALL_ROUTES.filter((r) => r.access.public)) {
      const res = await h.call({ method: route.method, url: urlOf(route), token: null });
      expect(res.statusCode, route.id).toBe(200);
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
