// Rollout actions on a Service (admin token):
//   GET  /api/v1/namespaces/:ns/services/:name/rollout            status + history
//   POST /api/v1/namespaces/:ns/services/:name/rollout/pause      spec.paused = true
//   POST .../rollout/resume                                        spec.paused = false
//   POST .../rollout/promote                                       status.rollout.promoted = true (a waiting canary goes on)
//   POST .../rollout/undo  { toVersion? }                          that version's template back into spec
// Each is one CAS write (retried on a conflict); the service controller does the rest.
import type { FastifyInstance } from 'fastify';
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  ROLLOUT_ACTIONS,
  ROUTES,
  schemaErrors,
  StaleRevisionError,
  UndoSchema,
  type RolloutAction,
  type RolloutView,
  type Service,
  type ServiceVersion,
  withTemplate,
} from '../core/index.js';
import { CHANGE_CAUSE_ANNOTATION, ServiceVersions, changeCause } from '../runtime/service-versions.js';
import type { Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import { admitManifest, writeAdmitted, type QuotaGuard } from './admission.js';
import type { Params, RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

export type { RolloutAction, RolloutView };

/** Reads the Service, changes it with `change` (undefined: nothing to do) and writes it with CAS, retrying on conflicts. */
/** `admitted.guard`: set by a `change` that admitted against a quota (writeAdmitted). */
async function updateService(
  store: Store,
  namespace: string,
  name: string,
  change: (s: Service) => Promise<Service | undefined>,
  admitted: { guard?: QuotaGuard | undefined } = {},
): Promise<{ service: Service; changed: boolean }> {
  // Only the write's lost race is retried: a ConflictError from `change` is its answer.
  return retryOnConflict(
    async () => {
      const svc = await store.get('Service', namespace, name);
      if (!svc) throw new NotFoundError('Service', namespace, name);
      admitted.guard = undefined;
      const next = await change(svc);
      if (!next) return { service: svc, changed: false };
      return { service: await writeAdmitted(store, admitted.guard, { op: 'update', object: next }), changed: true };
    },
    { retryable: (e) => e instanceof StaleRevisionError },
  );
}

const withSpec = (s: Service, spec: Service['spec'], annotations?: Record<string, string>): Service => {
  const generation = (s.metadata.generation ?? 1) + 1;
  return { ...s, metadata: { ...s.metadata, generation, ...(annotations ? { annotations: { ...s.metadata.annotations, ...annotations } } : {}) }, spec };
};

/** The version undo goes to: the one named, else the newest older one with a different template. */
function undoTarget(history: readonly ServiceVersion[], current: number | undefined, toVersion: number | undefined, name: string): ServiceVersion {
  if (toVersion !== undefined) {
    const v = history.find((h) => h.spec.version === toVersion);
    if (!v) {
      const known = history.map((h) => `v${h.spec.version}`).join(', ') || 'none';
      throw new InvalidError(`service ${name} has no version ${toVersion}; versions kept: ${known}`, [{ path: 'toVersion', message: `must be one of the kept versions (${known})` }]);
    }
    return v;
  }
  const cur = history.find((h) => h.spec.version === current);
  const older = history.filter((h) => h.spec.version < (current ?? Infinity) && h.spec.templateHash !== cur?.spec.templateHash);
  const v = older.at(-1);
  if (!v) throw new ConflictError(`service ${name} has no earlier version to undo to (see gantry rollout history service ${name})`);
  return v;
}

export async function rolloutAction(store: Store, namespace: string, name: string, action: RolloutAction, body: unknown): Promise<{ service: Service; changed: boolean; message: string }> {
  const versions = new ServiceVersions(store);
  switch (action) {
    case 'pause':
    case 'resume': {
      const paused = action === 'pause';
      const r = await updateService(store, namespace, name, async (s) => ((s.spec.paused === true) === paused ? undefined : withSpec(s, { ...s.spec, paused })));
      return { ...r, message: r.changed ? `rollout ${paused ? 'paused' : 'resumed'}` : `rollout already ${paused ? 'paused' : 'running'}` };
    }
    case 'promote': {
      const r = await updateService(store, namespace, name, async (s) => {
        const rollout = s.status?.rollout;
        if (!rollout || (rollout.phase !== 'CanaryPaused' && rollout.phase !== 'Progressing' && rollout.phase !== 'Paused')) {
          throw new ConflictError(`service ${name} has no rollout in progress to promote (phase ${rollout?.phase ?? 'none'})`);
        }
        if (rollout.promoted) return undefined;
        return { ...s, status: { ...s.status!, rollout: { ...rollout, promoted: true } } };
      });
      return { ...r, message: r.changed ? `v${r.service.status?.rollout?.version ?? '?'} promoted` : 'already promoted' };
    }
    case 'undo': {
      const errors = schemaErrors(UndoSchema, body ?? {}, '');
      if (errors.length > 0) throw new InvalidError('undo takes { "toVersion": N } (optional)', errors);
      const toVersion = (body as { toVersion?: number } | undefined)?.toVersion;
      let target: ServiceVersion | undefined;
      const admitted: { guard?: QuotaGuard | undefined } = {};
      const r = await updateService(store, namespace, name, async (s) => {
        target = undoTarget(await versions.list(namespace, name), s.status?.version, toVersion, name);
        const generation = (s.metadata.generation ?? 1) + 1;
        const next = withSpec(
          s,
          withTemplate(s.spec, target.spec.template),
          { [CHANGE_CAUSE_ANNOTATION]: changeCause(generation, `rollout undo to v${target.spec.version}`) },
        );
        // An old template is judged like an apply: the namespace's profile or quota may have changed since.
        admitted.guard = await admitManifest(store, next, s);
        return next;
      }, admitted);
      return { ...r, message: `rolling back to the template of v${target?.spec.version ?? '?'}` };
    }
  }
}

async function rolloutView(store: Store, namespace: string, name: string): Promise<RolloutView> {
  const svc = await store.get('Service', namespace, name);
  if (!svc) throw new NotFoundError('Service', namespace, name);
  const history = await new ServiceVersions(store).list(namespace, name);
  return {
    service: name,
    namespace,
    replicas: svc.spec.replicas ?? 1,
    generation: svc.metadata.generation ?? 1,
    status: svc.status,
    paused: svc.spec.paused === true,
    history: history.map((v) => ({
      version: v.spec.version,
      cause: v.spec.cause,
      createdAt: v.metadata.createdAt,
      images: v.spec.template.containers.map((c) => c.image),
      current: v.spec.version === svc.status?.version,
    })),
  };
}

export function registerRolloutRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.rollout, async (req) => rolloutView(deps.store, req.params.namespace ?? '', req.params.name ?? ''));
  serve<{ Params: Params & { action?: string }; Body: unknown }>(app, ROUTES.rolloutAction, async (req, reply) => {
      const action = req.params.action ?? '';
      if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action)) {
        throw new NotFoundError('rollout action', undefined, action, `no rollout action ${action}: use pause, resume, promote or undo`);
      }
      const namespace = req.params.namespace ?? '';
      const name = req.params.name ?? '';
      const { service, changed, message } = await rolloutAction(deps.store, namespace, name, action as RolloutAction, req.body);
      if (changed) {
        deps.logger.info({ kind: 'Service', namespace, name, action, revision: service.metadata.revision }, 'rollout action');
        await deps.events.record({ kind: 'Service', namespace, name }, 'Normal', `Rollout${action[0]!.toUpperCase()}${action.slice(1)}`, message, 'api');
      }
      return reply.header('x-gantry-result', changed ? 'configured' : 'unchanged').send({ message, service });
  });
}
