// CronJob actions: POST /api/v1/namespaces/{ns}/cronjobs/{name}/trigger (a Job now, named
// `<cronjob>-manual-<unix ms>`), /suspend and /resume (spec.suspend, CAS; no write when unchanged).
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ROUTES, type CronJob, type Job } from '../core/index.js';
import { jobFor } from '../runtime/cron-job-runs.js';
import type { Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

/** Creates a Job from the CronJob's template now; counts as no scheduled time. */
async function triggerCronJob(store: Store, namespace: string, name: string, now = new Date()): Promise<Job> {
  const cj = await store.get('CronJob', namespace, name);
  if (!cj) throw new NotFoundError('CronJob', namespace, name);
  return store.create<Job>(jobFor(cj, now, true));
}

/** Sets spec.suspend; returns the CronJob and whether it changed. */
async function setCronJobSuspended(store: Store, namespace: string, name: string, suspend: boolean): Promise<{ cronJob: CronJob; changed: boolean }> {
  return retryOnConflict(async () => {
    const cj = await store.get('CronJob', namespace, name);
    if (!cj) throw new NotFoundError('CronJob', namespace, name);
    if ((cj.spec.suspend ?? false) === suspend) return { cronJob: cj, changed: false };
    const next: CronJob = { ...cj, metadata: { ...cj.metadata, generation: (cj.metadata.generation ?? 1) + 1 }, spec: { ...cj.spec, suspend } };
    return { cronJob: await store.update(next), changed: true };
  });
}

export function registerJobRoutes(app: FastifyInstance, deps: RouteDeps): void {
  serve(app, ROUTES.cronTrigger, async (req, reply) => {
    const namespace = req.params.namespace ?? '';
    const name = req.params.name ?? '';
    const job = await triggerCronJob(deps.store, namespace, name);
    deps.logger.info({ kind: 'CronJob', namespace, name, job: job.metadata.name }, 'cron job triggered');
    await deps.events.record({ kind: 'CronJob', namespace, name }, 'Normal', 'Triggered', `triggered by hand: created job ${job.metadata.name}`, 'api');
    return reply.code(201).header('x-gantry-result', 'created').send(job);
  });
  for (const [route, action, suspend] of [[ROUTES.cronSuspend, 'suspend', true], [ROUTES.cronResume, 'resume', false]] as const) {
    serve(app, route, async (req, reply) => {
      const namespace = req.params.namespace ?? '';
      const name = req.params.name ?? '';
      const { cronJob, changed } = await setCronJobSuspended(deps.store, namespace, name, suspend);
      if (changed) deps.logger.info({ kind: 'CronJob', namespace, name, suspend, revision: cronJob.metadata.revision }, `cron job ${action}d`);
      return reply.header('x-gantry-result', changed ? 'configured' : 'unchanged').send(cronJob);
    });
  }
}
