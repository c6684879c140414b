import { afterEach, describe, expect, it } from 'vitest';
import type { CronJob, Job } from '../core/index.js';
import { startHarness, type Harness } from './test-helpers.js';

const cronJob = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'gantry/v1',
  kind: 'CronJob',
  metadata: { name: 'tick', namespace: 'default' },
  spec: { schedule: '@every 2s', jobTemplate: { containers: [{ name: 'main', image: 'busybox:1' }] }, ...over },
});

describe('cron job routes', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('applying a CronJob stores its defaults; a bad schedule is a 422 naming spec.schedule and the accepted forms', async () => {
    h = await startHarness();
    const ok = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/cronjobs/tick', payload: cronJob() });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<CronJob>().spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, jobTemplate: { backoffLimit: 6 } });
    const bad = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/cronjobs/tick', payload: cronJob({ schedule: '@every now' }) });
    expect(bad.statusCode).toBe(422);
    const details = (bad.json<{ error: { details: { path: string; message: string }[] } }>()).error.details;
    expect(details[0]?.path).toBe('spec.schedule');
    expect(details[0]?.message).toContain('@every 30s');
  });

  it('trigger creates <cronjob>-manual-<unix ms> from the template; 404 for an unknown cron job', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/cronjobs/tick', payload: cronJob() });
    const res = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/tick/trigger', payload: {} });
    expect(res.statusCode).toBe(201);
    const job = res.json<Job>();
    expect(job.metadata.name).toMatch(/^tick-manual-[0-9]{13}$/);
    expect(job.metadata.labels).toEqual({ 'gantry.io/cronjob': 'tick' });
    expect(job.spec.containers[0]?.image).toBe('busybox:1');
    expect((await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/nope/trigger', payload: {} })).statusCode).toBe(404);
    expect((await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/tick/trigger', payload: {}, token: await h.node('n1') })).statusCode).toBe(403);
  });

  it('suspend and resume set spec.suspend once; a repeat writes nothing', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/cronjobs/tick', payload: cronJob() });
    const s1 = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/tick/suspend', payload: {} });
    expect(s1.headers['x-gantry-result']).toBe('configured');
    expect(s1.json<CronJob>().spec.suspend).toBe(true);
    const s2 = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/tick/suspend', payload: {} });
    expect(s2.headers['x-gantry-result']).toBe('unchanged');
    const r = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/cronjobs/tick/resume', payload: {} });
    expect(r.json<CronJob>().spec.suspend).toBe(false);
  });
});
