// POST /api/v1/namespaces/{ns}/instances/{name}/stop: an operator (or a test) asks for the
// graceful stop an owner would ask for: sets Instance.spec.stop with a compare-and-swap. The
// node's agent then turns it not ready, drains, signals, kills after the grace period and reports
// it finished (reason Stopped); the owner deletes it afterwards.
import type { FastifyInstance } from 'fastify';
import { InvalidError, NotFoundError, ROUTES, schemaErrors, StopSchema, type Instance } from '../core/index.js';
import type { Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

function parseStopBody(body: unknown): string | undefined {
  const b = body ?? {};
  const errors = schemaErrors(StopSchema, b, '');
  if (errors.length > 0) throw new InvalidError('stop takes { "reason"?: "why" }', errors);
  return (b as { reason?: string }).reason;
}

/** Sets spec.stop once; an instance already stopping keeps its first request (no write). */
async function requestStop(store: Store, namespace: string, name: string, reason: string, now: Date): Promise<{ instance: Instance; changed: boolean }> {
  return retryOnConflict(async () => {
    const inst = await store.get('Instance', namespace, name);
    if (!inst) throw new NotFoundError('Instance', namespace, name);
    if (inst.spec.stop) return { instance: inst, changed: false };
    return { instance: await store.update({ ...inst, spec: { ...inst.spec, stop: { at: now.toISOString(), reason } } }), changed: true };
  });
}

export function registerInstanceStopRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.stop, async (req, reply) => {
      const reason = parseStopBody(req.body) ?? 'stopped by an operator';
      const namespace = req.params.namespace ?? '';
      const name = req.params.name ?? '';
      const { instance, changed } = await requestStop(deps.store, namespace, name, reason, new Date());
      if (changed) deps.logger.info({ kind: 'Instance', namespace, name, reason, revision: instance.metadata.revision }, 'stop requested');
      return reply.header('x-gantry-result', changed ? 'configured' : 'unchanged').send(instance);
  });
}
