// POST /api/v1/nodes/{name}/heartbeat: the agent's "I am alive". Registration and node status
// use the generic object routes (PUT /api/v1/nodes/{name}, PUT .../status).
import type { FastifyInstance } from 'fastify';
import type { Params, RouteDeps } from './route-deps.js';
import { heartbeat } from './status-writes.js';

export function registerNodeRoutes(app: FastifyInstance, deps: RouteDeps, now: () => Date): void {
  app.post<{ Params: Params }>(
    '/api/v1/nodes/:name/heartbeat',
    { config: { roles: ['agent'], forbidden: 'heartbeats come from agents: use the agent token' } },
    async (req, reply) => {
      await heartbeat(deps.store, req.params.name ?? '', now());
      return reply.code(204).send();
    },
  );
}
