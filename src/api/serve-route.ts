// Registers a route from its registry entry (core/api/routes.ts): method, URL and access policy
// come from the entry, only the handler from the caller. The body schemas are not handed to
// Fastify: handlers check bodies with the same schemas through schemaErrors, whose messages and
// field paths (`items[3].reason`) are what the API has always answered with.
import type { FastifyInstance, RouteGenericInterface, RouteHandlerMethod } from 'fastify';
import type { RouteSpec } from '../core/index.js';
import type { Params, Query } from './route-deps.js';

interface DefaultRoute extends RouteGenericInterface {
  Params: Params;
  Querystring: Query;
  Body: unknown;
}

export function serve<RG extends RouteGenericInterface = DefaultRoute>(app: FastifyInstance, spec: RouteSpec, handler: RouteHandlerMethod<FastifyInstance['server'], never, never, RG>): void {
  app.route<RG>({ method: spec.method, url: spec.path, config: { access: spec.access, routeId: spec.id }, handler: handler as never });
}

/** A route as the app registered it. */
export interface RegisteredRoute {
  method: string;
  url: string;
  routeId: string | undefined;
}

/**
 * Makes the app refuse, while it is being built, any route that does not come from the registry
 * (one without an access policy): a route nobody declared cannot slip past the auth hook's
 * policy check. Returns the routes registered, for the route-table test.
 */
export function requireRegistryRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    if (!r.config?.access) throw new Error(`route ${methods.join(',')} ${r.url} has no entry in the route registry (core/api/routes.ts); register it with serve()`);
    for (const method of methods) registered.push({ method, url: r.url, routeId: r.config.routeId });
  });
  return registered;
}
