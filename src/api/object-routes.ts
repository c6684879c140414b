// Generic routes for every kind in core/kinds.ts: list (and watch), get, create, apply, delete and
// the status subresource. Paths and access policies come from the route registry (core/api/routes.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  API_VERSION,
  ConflictError,
  DEFAULT_NAMESPACE,
  KINDS,
  namespaceOf,
  NotFoundError,
  routesOfKind,
  type AnyObject,
  type Principal,
  type KindInfo,
  isDryRun,
} from '../core/index.js';
import { namespaceFilter, principalOf } from './auth.js';
import { applyObject, createObject, parseManifest } from './apply.js';
import { dryRunApply } from './dry-run.js';
import { queryFlag, queryInt, type Params, type Query, type RouteDeps } from './route-deps.js';
import { nodeListScope, tokenIdOf } from './node-authorizer.js';
import { refuseUnwatchable, selectorPredicate, selectorSelection } from './selectors.js';
import { parseStatusBody, writeStatus } from './status-writes.js';
import { serve } from './serve-route.js';
import { serveWatch } from './watch-stream.js';
import { STREAMED_LIST_MIN_ITEMS, streamedList } from './list-body.js';
import { ListPages } from './list-pages.js';

async function listOrWatch(deps: RouteDeps, pages: ListPages, k: KindInfo, namespace: string | undefined, query: Query, reply: FastifyReply, principal: Principal): Promise<unknown> {
  // The field term goes to the store's index; only what remains is filtered here.
  // A node's own credential sees only its Node and the instances bound to it (node-authorizer.ts):
  // the store selects by its spec.node, and every selector term the caller gave is checked here.
  const scope = nodeListScope(principal, k.kind);
  const selection = selectorSelection(query);
  const field = scope ? scope.field : selection.field;
  const given = scope ? selectorPredicate(query) : selection.predicate;
  const selected = scope && given ? (o: AnyObject) => scope.predicate(o) && given(o) : (scope?.predicate ?? given);
  // A person sees lists across namespaces only in its own namespaces (and only those Namespaces).
  const mine = namespace === undefined ? namespaceFilter(principal) : undefined;
  const visible = mine && ((o: AnyObject): boolean => mine(k.kind === 'Namespace' ? o.metadata.name : namespaceOf(o)));
  const predicate = visible && selected ? (o: AnyObject) => visible(o) && selected(o) : (visible ?? selected);
  if (queryFlag(query, 'watch')) {
    refuseUnwatchable(query);
    const fromRevision = queryInt(query, 'revision');
    deps.metrics?.reads.inc({ kind: k.kind, how: fromRevision === undefined ? 'watch' : 'resume' });
    await serveWatch(reply, {
      store: deps.store,
      streams: deps.streams,
      logger: deps.logger,
      kind: k.kind,
      namespace,
      field,
      predicate,
      fromRevision,
      bookmarkIntervalMs: deps.bookmarkIntervalMs,
      owner: tokenIdOf(principal),
      omitStatusChanges: queryFlag(query, 'omitStatusChanges'),
    });
    return reply;
  }
  const limit = queryInt(query, 'limit');
  deps.metrics?.reads.inc({ kind: k.kind, how: 'list' });
  const continueToken = typeof query.continue === 'string' ? query.continue : undefined;
  if (limit !== undefined || continueToken !== undefined) {
    // Pages come from one snapshot taken at the first page (list-pages.ts); the selectors are the first page's.
    const { items: all, revision } = continueToken === undefined ? await deps.store.list(k.kind, { namespace, field }) : { items: [], revision: 0 };
    const page = pages.page(limit, continueToken, () => ({ items: predicate ? all.filter(predicate) : all, revision }));
    const metadata = { revision: page.revision, ...(page.continue ? { continue: page.continue, remainingItemCount: page.remaining } : {}) };
    if (page.items.length >= STREAMED_LIST_MIN_ITEMS) return reply.type('application/json; charset=utf-8').send(streamedList(page.items, page.revision, metadata));
    return { apiVersion: API_VERSION, kind: 'List', metadata, items: page.items };
  }
  const { items: all, revision } = await deps.store.list(k.kind, { namespace, field });
  const items = predicate ? all.filter(predicate) : all;
  if (items.length >= STREAMED_LIST_MIN_ITEMS) return reply.type('application/json; charset=utf-8').send(streamedList(items, revision));
  return { apiVersion: API_VERSION, kind: 'List', metadata: { revision }, items };
}

async function deleteObject(deps: RouteDeps, k: KindInfo, namespace: string | undefined, name: string): Promise<AnyObject> {
  if (k.kind === 'Namespace') {
    if (name === DEFAULT_NAMESPACE) throw new ConflictError('the default namespace cannot be deleted; it holds objects applied without a namespace');
    if (!(await deps.store.get('Namespace', undefined, name))) throw new NotFoundError('Namespace', undefined, name);
    const services = (await deps.store.list('Service', { namespace: name })).items;
    if (services.length > 0) {
      const names = services.slice(0, 5).map((s) => s.metadata.name).join(', ');
      throw new ConflictError(
        `namespace "${name}" still holds ${services.length} service${services.length > 1 ? 's' : ''} (${names}${services.length > 5 ? ', ...' : ''}); delete them first: gantry delete service NAME -n ${name}`,
      );
    }
  }
  const deleted = await deps.store.delete(k.kind, namespace, name);
  deps.logger.info({ kind: k.kind, namespace, name, revision: deleted.metadata.revision }, 'deleted');
  return deleted;
}

function registerKind(app: FastifyInstance, deps: RouteDeps, pages: ListPages, k: KindInfo): void {
  const routes = routesOfKind(k.kind);
  const nsOf = (p: Params): string | undefined => (k.namespaced ? p.namespace : undefined);
  const at = (p: Params): { kind: typeof k.kind; namespace: string | undefined; name: string } => ({ kind: k.kind, namespace: nsOf(p), name: p.name ?? '' });

  serve(app, routes.list, async (req, reply) => listOrWatch(deps, pages, k, nsOf(req.params), req.query, reply, principalOf(req)));
  if (routes.listAll) serve(app, routes.listAll, async (req, reply) => listOrWatch(deps, pages, k, undefined, req.query, reply, principalOf(req)));

  serve(app, routes.get, async (req) => {
    const { kind, namespace, name } = at(req.params);
    const obj = await deps.store.get(kind, namespace, name);
    if (!obj) throw new NotFoundError(kind, namespace, name);
    return obj;
  });

  serve(app, routes.create, async (req, reply) => {
    const body = req.body as { metadata?: { name?: unknown } } | undefined;
    const name = typeof body?.metadata?.name === 'string' ? body.metadata.name : '';
    const manifest = parseManifest(req.body, { kind: k.kind, namespace: nsOf(req.params), name });
    const created = await createObject(deps.store, manifest);
    deps.logger.info({ kind: k.kind, namespace: created.metadata.namespace, name: created.metadata.name, revision: created.metadata.revision }, 'created');
    return reply.code(201).header('x-gantry-result', 'created').send(created);
  });

  serve(app, routes.apply, async (req, reply) => {
    const manifest = parseManifest(req.body, at(req.params));
    if (isDryRun(req.query)) return reply.header('x-gantry-result', 'dry-run').send(await dryRunApply(deps.store, manifest));
    const { object, result } = await applyObject(deps.store, manifest);
    if (result !== 'unchanged') {
      deps.logger.info({ kind: k.kind, namespace: object.metadata.namespace, name: object.metadata.name, revision: object.metadata.revision, result }, 'applied');
    }
    return reply.code(result === 'created' ? 201 : 200).header('x-gantry-result', result).send(object);
  });

  serve(app, routes.delete, async (req) => {
    const { namespace, name } = at(req.params);
    return deleteObject(deps, k, namespace, name);
  });

  serve(app, routes.status, async (req) => {
    const { kind, namespace, name } = at(req.params);
    const { status, revision } = parseStatusBody(kind, req.body);
    return writeStatus(deps.store, kind, namespace, name, status, revision);
  });
}

export function registerObjectRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // Snapshots of paged lists (?limit=, ?continue=), shared by every kind's list routes.
  const pages = new ListPages();
  for (const k of KINDS) registerKind(app, deps, pages, k);
}
