// The service catalog over HTTP: GET /api/v1/namespaces/{ns}/endpoints/{service} (an EndpointSet),
// the lists, and `?watch=1` on each (NDJSON: the current sets, then every change, BOOKMARKs when
// idle). Answers come from the in-memory Catalog, never the store; every reader may read (people: in their namespaces).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEFAULT_NAMESPACE, NotFoundError, ROUTES, UnavailableError, type EndpointSet, type Principal } from '../core/index.js';
import { namespaceFilter, principalOf } from './auth.js';
import type { Catalog } from '../discovery/catalog.js';
import { queryFlag, type Query, type RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import { serveEndpointWatch } from './endpoint-watch.js';

/** Which sets a request is about: one service, one namespace, or all. */
interface Scope {
  namespace?: string | undefined;
  service?: string | undefined;
}

function catalogOf(catalog: Catalog | undefined): Catalog {
  if (!catalog) throw new UnavailableError('this server runs no service catalog; endpoints are served by gantry server and gantry up');
  return catalog;
}

function matches(scope: Scope, visible: ((namespace: string) => boolean) | undefined): (set: EndpointSet) => boolean {
  return (set) =>
    (scope.namespace === undefined || set.namespace === scope.namespace) && (scope.service === undefined || set.service === scope.service) && (!visible || visible(set.namespace));
}

async function listOrWatch(deps: RouteDeps, catalog: Catalog, scope: Scope, query: Query, reply: FastifyReply, principal: Principal): Promise<unknown> {
  await catalog.synced;
  // Across namespaces, a person sees only its own.
  const filter = matches(scope, scope.namespace === undefined ? namespaceFilter(principal) : undefined);
  if (queryFlag(query, 'watch')) {
    const initial = scope.service !== undefined ? [catalog.get(scope.namespace ?? DEFAULT_NAMESPACE, scope.service)] : catalog.list(scope.namespace).filter(filter);
    await serveEndpointWatch(reply, { catalog, streams: deps.streams, logger: deps.logger, initial, filter, bookmarkIntervalMs: deps.bookmarkIntervalMs });
    return reply;
  }
  if (scope.service !== undefined) {
    const ns = scope.namespace ?? DEFAULT_NAMESPACE;
    const set = catalog.get(ns, scope.service);
    // An empty set of a service that exists is an answer; of one that does not, a typo.
    if (set.endpoints.length === 0 && !(await deps.store.get('Service', ns, scope.service))) throw new NotFoundError('Service', ns, scope.service);
    return set;
  }
  return { kind: 'EndpointSetList', revision: catalog.revision, items: catalog.list(scope.namespace).filter(filter) };
}

export function registerEndpointRoutes(app: FastifyInstance, deps: RouteDeps, catalog: Catalog | undefined): void {
  serve(app, ROUTES.endpointsAll, async (req, reply) => listOrWatch(deps, catalogOf(catalog), {}, req.query, reply, principalOf(req)));
  serve(app, ROUTES.endpointsList, async (req, reply) => listOrWatch(deps, catalogOf(catalog), { namespace: req.params.namespace }, req.query, reply, principalOf(req)));
  serve(app, ROUTES.endpoints, async (req, reply) =>
    listOrWatch(deps, catalogOf(catalog), { namespace: req.params.namespace, service: req.params.service }, req.query, reply, principalOf(req)),
  );
}
