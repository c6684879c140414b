// Instance routes beyond the generic ones: the agents' batched status report and the log proxy.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { InvalidError, schemaErrors } from '../core/index.js';
import { proxyLog } from './log-proxy.js';
import { queryFlag, queryInt, type Params, type Query, type RouteDeps } from './route-deps.js';
import { reportInstanceStatuses, type InstanceReport } from './status-writes.js';
import { STATUS_FORBIDDEN } from './object-routes.js';

/** One request carries at most this many reports; agents batch below it. */
export const MAX_BATCH = 10_000;

const BatchSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }), status: Type.Unknown() }, { additionalProperties: false }),
      { maxItems: MAX_BATCH, errorMessage: `must be a list of at most ${MAX_BATCH} { namespace, name, status }` },
    ),
  },
  { additionalProperties: false },
);

export function registerInstanceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post<{ Body: unknown }>('/api/v1/status/instances', { config: { roles: ['agent'], forbidden: STATUS_FORBIDDEN } }, async (req) => {
    const errors = schemaErrors(BatchSchema, req.body, '');
    if (errors.length > 0) throw new InvalidError('the status report is invalid; send { "items": [{ "namespace", "name", "status" }] }', errors);
    const { items } = req.body as { items: InstanceReport[] };
    const results = await reportInstanceStatuses(deps.store, items);
    return { results };
  });

  app.get<{ Params: Params; Querystring: Query }>('/api/v1/namespaces/:namespace/instances/:name/log', async (req, reply) => {
    const container = req.query.container;
    return proxyLog(deps, reply, {
      namespace: req.params.namespace ?? '',
      name: req.params.name ?? '',
      container: typeof container === 'string' && container !== '' ? container : undefined,
      follow: queryFlag(req.query, 'follow'),
      tail: queryInt(req.query, 'tail'),
    });
  });
}
