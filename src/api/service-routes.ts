// PUT /api/v1/namespaces/{ns}/services/{name}/scale: change only spec.replicas.
import type { FastifyInstance } from 'fastify';
import { InvalidError, NotFoundError, ROUTES, ScaleSchema, schemaErrors, type Service } from '../core/index.js';
import type { Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import { admitManifest, writeAdmitted } from './admission.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

function parseScaleBody(body: unknown): number {
  const errors = schemaErrors(ScaleSchema, body, '');
  if (errors.length > 0) throw new InvalidError('scale needs { "replicas": N } with N from 0 to 100000', errors);
  return (body as { replicas: number }).replicas;
}

/** Sets spec.replicas (generation + 1); no write when it already has that value. */
async function scaleService(store: Store, namespace: string, name: string, replicas: number): Promise<{ service: Service; changed: boolean }> {
  return retryOnConflict(async () => {
    const svc = await store.get('Service', namespace, name);
    if (!svc) throw new NotFoundError('Service', namespace, name);
    if (svc.spec.replicas === replicas) return { service: svc, changed: false };
    const next: Service = {
      ...svc,
      metadata: { ...svc.metadata, generation: (svc.metadata.generation ?? 1) + 1 },
      spec: { ...svc.spec, replicas },
    };
    // A scale-up is admitted like an apply: the namespace's instance, cpu and memory quotas.
    const guard = await admitManifest(store, next, svc);
    return { service: await writeAdmitted(store, guard, { op: 'update', object: next }), changed: true };
  });
}

export function registerServiceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.scale, async (req, reply) => {
    const replicas = parseScaleBody(req.body);
    const namespace = req.params.namespace ?? '';
    const name = req.params.name ?? '';
    const { service, changed } = await scaleService(deps.store, namespace, name, replicas);
    if (changed) deps.logger.info({ kind: 'Service', namespace, name, replicas, revision: service.metadata.revision }, 'scaled');
    return reply.header('x-gantry-result', changed ? 'configured' : 'unchanged').send(service);
  });
}
