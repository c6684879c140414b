// Instance routes beyond the generic ones: the agents' batched status report and the log proxy.
import type { FastifyInstance } from 'fastify';
import { InvalidError, MAX_STATUS_BATCH, ROUTES, schemaErrors, StatusBatchSchema } from '../core/index.js';
import { tokenIdOf } from './node-authorizer.js';
import { proxyLog } from './log-proxy.js';
import { queryFlag, queryInt, type RouteDeps } from './route-deps.js';
import { reportInstanceStatuses, type InstanceReport } from './status-writes.js';
import { serve } from './serve-route.js';

/** One request carries at most this many reports; agents batch below it. */
export const MAX_BATCH = MAX_STATUS_BATCH;

export function registerInstanceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.statusBatch, async (req, reply) => {
    const errors = schemaErrors(StatusBatchSchema, req.body, '');
    if (errors.length > 0) throw new InvalidError('the status report is invalid; send { "items": [{ "namespace", "name", "status" }] }', errors);
    const { items } = req.body as { items: InstanceReport[] };
    const results = await reportInstanceStatuses(deps.store, items);
    await deps.reportIsHeartbeat?.(req, reply);
    return { results };
  });

  serve(app, ROUTES.log, async (req, reply) => {
    const container = req.query.container;
    return proxyLog(deps, reply, {
      namespace: req.params.namespace ?? '',
      name: req.params.name ?? '',
      container: typeof container === 'string' && container !== '' ? container : undefined,
      follow: queryFlag(req.query, 'follow'),
      tail: queryInt(req.query, 'tail'),
      timestamps: queryFlag(req.query, 'timestamps'),
      previous: queryFlag(req.query, 'previous'),
      owner: tokenIdOf(req.principal),
    });
  });
}
