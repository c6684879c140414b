// POST /api/v1/nodes/{name}/heartbeat: the agent's "I am alive". Registration and node status
// use the generic object routes (PUT /api/v1/nodes/{name}, PUT .../status).
// POST /api/v1/nodes/{name}/cordon|uncordon|drain: maintenance (admin; node-actions.ts).
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ROUTES } from '../core/index.js';
import { NODE_ACTIONS, nodeAction, type NodeAction } from './node-actions.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import type { HeartbeatRate, NodeCount } from '../runtime/heartbeat-pace.js';
import { advisePace, heartbeat, type HeartbeatWrites } from './heartbeats.js';

export interface NodeRouteOptions {
  now: () => Date;
  /** How old a ready node's stored heartbeat may get before a heartbeat rewrites it. */
  heartbeatPersistMs?: number | undefined;
  /** With leases: heartbeat writes run after the answer, here (heartbeats.ts). */
  heartbeatWrites?: HeartbeatWrites | undefined;
  /** With leases: the cluster's size, for the heartbeat pace the answers ask for. */
  nodes?: NodeCount | undefined;
  /** The heartbeat rate the pace aims at, read at each answer (server --max-heartbeats-per-second; on etcd the leader's). */
  heartbeatRate?: HeartbeatRate | undefined;
}

export function registerNodeRoutes(app: FastifyInstance, deps: RouteDeps, opts: NodeRouteOptions): void {
  serve(app, ROUTES.heartbeat, async (req, reply) => {
    await heartbeat(deps.store, req.params.name ?? '', opts.now(), {
      leases: deps.leases,
      persistIntervalMs: opts.heartbeatPersistMs,
      writes: opts.heartbeatWrites,
      nodes: opts.nodes,
      rate: opts.heartbeatRate,
    });
    advisePace(reply, opts.nodes, opts.heartbeatRate);
    return reply.code(204).send();
  });
  serve(app, ROUTES.nodeAction, async (req, reply) => {
      const action = req.params.action ?? '';
      if (!(NODE_ACTIONS as readonly string[]).includes(action)) {
        throw new NotFoundError('node action', undefined, action, `no node action ${action}: use cordon, uncordon or drain`);
      }
      const name = req.params.name ?? '';
      const r = await nodeAction(deps.store, name, action as NodeAction);
      if (r.changed) {
        deps.logger.info({ kind: 'Node', name, action, revision: r.node.metadata.revision }, 'node action');
        await deps.events.record({ kind: 'Node', name }, 'Normal', r.reason, r.message, 'api');
      }
      return reply.header('x-gantry-result', r.changed ? 'configured' : 'unchanged').send({ message: r.message, node: r.node });
  });
}
