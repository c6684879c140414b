// `gantry get jobs|cronjobs`, `describe cronjob`, `logs job NAME --run N` and `cronjob ...` against a fake client.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type CronJob, type Job } from '../core/index.js';
import { runCli } from './run-cli.js';
import { fakeClient, NOW, testContext } from './test-helpers.js';

const token = { GANTRY_TOKEN: 't0k3n' };
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

function aJob(name: string, o: { phase?: Job['status'] extends infer S ? (S extends { phase: infer P } ? P : never) : never; succeeded?: number; runs?: number; cronJob?: string; scheduled?: string } = {}): Job {
  const runs = Array.from({ length: o.runs ?? 2 }, (_, k) => ({ run: k + 1, instance: `${name}-${k + 1}`, phase: 'Succeeded' as const, exitCode: k, node: 'vm' }));
  return {
    apiVersion: API_VERSION,
    kind: 'Job',
    metadata: {
      name,
      namespace: 'default',
      uid: 'u',
      revision: 3,
      createdAt: ago(30),
      ...(o.cronJob ? { labels: { 'gantry.io/cronjob': o.cronJob }, annotations: { 'gantry.io/scheduled-time': o.scheduled ?? ago(30) } } : {}),
    },
    spec: { containers: [{ name: 'main', image: 'busybox:1' }], completions: 5 },
    status: { phase: o.phase ?? 'Running', active: 2, succeeded: o.succeeded ?? 3, failed: 1, startTime: ago(20), runs, conditions: [] },
  };
}

function aCronJob(): CronJob {
  return {
    apiVersion: API_VERSION,
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'default', uid: 'u', revision: 9, createdAt: ago(600) },
    spec: { schedule: '@every 2s', jobTemplate: { containers: [{ name: 'main', image: 'busybox:1' }] } },
    status: { lastScheduleTime: ago(1), nextScheduleTime: new Date(NOW.getTime() + 1000).toISOString(), active: ['tick-1'], missed: 2, conditions: [] },
  };
}

describe('gantry get jobs / cronjobs', () => {
  it('prints completions, active, failed and duration for jobs', async () => {
    const ctx = testContext({ env: token, client: fakeClient({ list: (() => Promise.resolve({ items: [aJob('batch')], revision: 1 })) as never }) });
    expect(await runCli(ctx, ['get', 'jobs'])).toBe(0);
    expect(ctx.out).toBe('NAME    STATUS    COMPLETIONS   ACTIVE   FAILED   DURATION   AGE\nbatch   Running   3/5           2        1        20s        30s\n');
  });

  it('prints schedule, last and next runs and missed for cron jobs', async () => {
    const ctx = testContext({ env: token, client: fakeClient({ list: (() => Promise.resolve({ items: [aCronJob()], revision: 1 })) as never }) });
    expect(await runCli(ctx, ['get', 'cronjobs'])).toBe(0);
    expect(ctx.out).toBe('NAME   SCHEDULE    SUSPEND   ACTIVE   LAST SCHEDULE   NEXT    MISSED   AGE\ntick   @every 2s   false     1        1s ago          in 1s   2        10m\n');
  });
});

describe('gantry describe cronjob', () => {
  it('shows the last and next runs and the jobs, newest first', async () => {
    const client = fakeClient({
      get: (() => Promise.resolve(aCronJob())) as never,
      list: ((kind: string) =>
        Promise.resolve({ items: kind === 'Job' ? [aJob('tick-1', { cronJob: 'tick', scheduled: ago(5) }), aJob('tick-2', { cronJob: 'tick', scheduled: ago(3), phase: 'Succeeded' })] : [], revision: 1 })) as never,
    });
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['describe', 'cronjob', 'tick'])).toBe(0);
    expect(ctx.out).toContain(`Last Schedule:   ${ago(1)} (1s ago)`);
    expect(ctx.out).toContain('Next Schedule:   2025-01-01T12:00:01.000Z (in 1s)');
    expect(ctx.out).toContain('Missed:          2');
    const jobs = ctx.out.slice(ctx.out.indexOf('Jobs:'));
    expect(jobs.indexOf('tick-2')).toBeLessThan(jobs.indexOf('tick-1'));
    expect(jobs).toContain('0,1');
  });
});

describe('gantry logs job', () => {
  const client = (seen: string[]) =>
    fakeClient({
      get: (() => Promise.resolve(aJob('batch', { runs: 3 }))) as never,
      logs: ((_ns: string, name: string) => {
        seen.push(name);
        return (async function* () {
          yield `log of ${name}\n`;
        })();
      }) as never,
    });

  it('--run N prints that run\'s log; without it, the latest run', async () => {
    const seen: string[] = [];
    const ctx = testContext({ env: token, client: client(seen) });
    expect(await runCli(ctx, ['logs', 'job', 'batch', '--run', '2'])).toBe(0);
    expect(await runCli(ctx, ['logs', 'job', 'batch'])).toBe(0);
    expect(seen).toEqual(['batch-2', 'batch-3']);
    expect(ctx.out).toBe('log of batch-2\nlog of batch-3\n');
  });

  it('an unknown run names the runs there are', async () => {
    const ctx = testContext({ env: token, client: client([]) });
    expect(await runCli(ctx, ['logs', 'job', 'batch', '--run', '9'])).toBe(1);
    expect(ctx.err).toContain('job batch has no run 9; its runs are 1, 2, 3');
  });
});

describe('gantry cronjob', () => {
  it('trigger prints the job it made; suspend and resume say what they did', async () => {
    const calls: string[] = [];
    const client = fakeClient({
      cronJobAction: ((_ns: string, name: string, action: string) => {
        calls.push(`${action} ${name}`);
        return Promise.resolve(action === 'trigger' ? aJob('tick-manual-1735732800000') : aCronJob());
      }),
    });
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['cronjob', 'trigger', 'tick'])).toBe(0);
    expect(await runCli(ctx, ['cronjob', 'suspend', 'tick'])).toBe(0);
    expect(await runCli(ctx, ['cronjob', 'resume', 'tick'])).toBe(0);
    expect(ctx.out).toBe('job/tick-manual-1735732800000 created\ncronjob/tick suspended\ncronjob/tick resumed\n');
    expect(calls).toEqual(['trigger tick', 'suspend tick', 'resume tick']);
    expect(await runCli(ctx, ['cronjob', 'pause', 'tick'])).toBe(1);
    expect(ctx.err).toContain('unknown action "pause"; use one of trigger, suspend, resume');
  });
});
