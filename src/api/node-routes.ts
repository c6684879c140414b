// POST /api/v1/nodes/{name}/heartbeat: the agent's "I am alive". Registration and node status
// use the generic object routes (PUT /api/v1/nodes/{name}, PUT .../status).
import type { FastifyInstance } from 'fastify';
import type { Params, RouteDeps } from './route-deps.js';
import { heartbeat } from './status-writes.js';

export interface NodeRouteOptions {
  now: () => Date;
  /** How old a ready node's stored heartbeat may get before a heartbeat rewrites it. */
  heartbeatPersistMs?: number | undefined;
}

export function registerNodeRoutes(app: FastifyInstance, deps: RouteDeps, opts: NodeRouteOptions): void {
  app.post<{ Params: Params }>(
    '/api/v1/nodes/:name/heartbeat',
    { config: { roles: ['agent'], forbidden: 'heartbeats come from agents: use the agent token' } },
    async (req, reply) => {
      await heartbeat(deps.store, req.params.name ?? '', opts.now(), { leases: deps.leases, persistIntervalMs: opts.heartbeatPersistMs });
      return reply.code(204).send();
    },
  );
}
