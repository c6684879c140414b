// Jobs and cron jobs against real dockerd, with `gantry server` and `gantry agent` as separate
// processes, so the server can be stopped while the agent and its containers keep running.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CronJob, Instance, Job, JobRun } from '../../src/core/index.js';
import { containersWithLabels, inspect } from '../support/docker-cli.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { ensureTestImage } from '../support/test-image.js';
import { sleep, waitFor } from '../support/wait.js';

describe('jobs and cron jobs', () => {
  let g: GantryProcesses;
  let image: string;
  let server: ChildProcess;
  let port: number;

  const startServer = async () => {
    server = g.spawn('server', ['server', '--listen', `127.0.0.1:${port}`]);
    await g.waitReady('server');
  };

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    port = await freePort();
    g.url = `https://127.0.0.1:${port}`;
    await startServer();
    await g.startAgent('jobs-node', ['--driver', 'docker', '--publish-address', '127.0.0.1']);
    await waitFor('the agent to register a ready node', async () => {
      const n = await g.getJson<{ status?: { ready?: boolean } }>(['get', 'node', 'jobs-node']);
      return n.status?.ready === true;
    });
  });
  afterAll(async () => {
    await g?.close();
  });

  const cronJob = (name: string, schedule: string, script: string, extra = '') => `apiVersion: gantry/v1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "${schedule}"
${extra}  jobTemplate:
    containers:
      - name: main
        image: ${image}
        command: ["/bin/sh", "-c", ${JSON.stringify(script)}]
        resources: { cpu: 0.05, memory: 16Mi }
`;
  const job = (name: string, script: string, extra = '') => `apiVersion: gantry/v1
kind: Job
metadata:
  name: ${name}
spec:
${extra}  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", ${JSON.stringify(script)}]
      resources: { cpu: 0.05, memory: 16Mi }
`;
  const jobsOf = async (cj: string): Promise<Job[]> =>
    (await g.getJson<{ items: Job[] }>(['get', 'jobs'])).items
      .filter((j) => j.metadata.labels?.['gantry.io/cronjob'] === cj)
      .sort((a, b) => scheduled(a) - scheduled(b));
  const scheduled = (j: Job) => Date.parse(j.metadata.annotations?.['gantry.io/scheduled-time'] ?? '');
  const runsOf = (jobs: readonly Job[]): JobRun[] => jobs.flatMap((j) => j.status?.runs ?? []);
  const cli = async (args: string[]) => {
    const r = await g.cli(args);
    if (r.code !== 0) throw new Error(`gantry ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('a CronJob @every 2s runs at least 3 times in 8 s, each with its own run record and log', async () => {
    expect((await g.apply(cronJob('tick', '@every 2s', 'echo "tick from $GANTRY_INSTANCE"', '  successfulJobsHistoryLimit: 10\n'))).code).toBe(0);
    const done = await waitFor('3 succeeded runs of tick', async () => {
      const jobs = (await jobsOf('tick')).filter((j) => j.status?.phase === 'Succeeded');
      return jobs.length >= 3 ? jobs.slice(0, 3) : undefined;
    }, 60_000);
    await cli(['cronjob', 'suspend', 'tick']);
    // Three consecutive scheduled times, 2 s apart: 3 runs within 8 s of schedule.
    const times = done.map(scheduled);
    expect(times[1]! - times[0]!).toBe(2000);
    expect(times[2]! - times[1]!).toBe(2000);
    for (const j of done) {
      expect(j.metadata.name).toBe(`tick-${Math.floor(scheduled(j) / 1000)}`);
      expect(j.status?.runs).toHaveLength(1);
      expect(j.status?.runs[0]).toMatchObject({ run: 1, phase: 'Succeeded', exitCode: 0, node: 'jobs-node' });
      const log = await cli(['logs', 'job', j.metadata.name, '--run', '1']);
      expect(log).toContain(`tick from ${j.status?.runs[0]?.instance}`);
    }
    const table = await cli(['get', 'cronjobs']);
    expect(table).toMatch(/tick\s+@every 2s\s+true/);
    const described = await cli(['describe', 'cronjob', 'tick']);
    expect(described).toContain('Last Schedule:');
    expect(described).toContain(done[0]!.metadata.name);
    await cli(['delete', 'cronjob', 'tick']);
  });

  it('Forbid: a 5 s job every 2 s never overlaps, and skipped times are counted as missed', async () => {
    expect((await g.apply(cronJob('forbid', '@every 2s', 'sleep 5', '  concurrencyPolicy: Forbid\n  successfulJobsHistoryLimit: 10\n'))).code).toBe(0);
    const jobs = await waitFor('2 finished runs of forbid', async () => {
      const all = await jobsOf('forbid');
      return all.filter((j) => j.status?.phase === 'Succeeded').length >= 2 ? all : undefined;
    }, 60_000);
    await cli(['cronjob', 'suspend', 'forbid']);
    const runs = runsOf(jobs).filter((r) => r.startedAt);
    const spans = runs.map((r) => [Date.parse(r.startedAt!), r.finishedAt ? Date.parse(r.finishedAt) : Infinity] as const).sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < spans.length; k++) expect(spans[k]![0]).toBeGreaterThanOrEqual(spans[k - 1]![1]);
    const cj = await g.getJson<CronJob>(['get', 'cronjob', 'forbid']);
    expect(cj.status!.missed).toBeGreaterThanOrEqual(2);
    await cli(['delete', 'cronjob', 'forbid']);
  });

  it('Replace: the running job is stopped when the next one starts', async () => {
    // A history of 10 failed jobs: on a slow machine a third time may come before the suspend,
    // and with the default of 1 the first (failed) job would be pruned before we look at it.
    expect((await g.apply(cronJob('replace', '@every 4s', 'sleep 300', '  concurrencyPolicy: Replace\n  failedJobsHistoryLimit: 10\n'))).code).toBe(0);
    const [first] = await waitFor('a second job of replace', async () => {
      const all = await jobsOf('replace');
      return all.length >= 2 ? all : undefined;
    }, 60_000);
    await cli(['cronjob', 'suspend', 'replace']);
    const old = await waitFor('the first job to be failed as stopped', async () => {
      const j = await g.getJson<Job>(['get', 'job', first!.metadata.name]);
      return j.status?.phase === 'Failed' ? j : undefined;
    });
    expect(old.status?.conditions.find((c) => c.type === 'Failed')?.reason).toBe('Stopped');
    const instance = old.status!.runs[0]!.instance;
    // Its container ends: by the agent's graceful stop, or (agent not answering) by removal.
    await waitFor('the replaced run container to stop', async () => {
      const ids = await containersWithLabels({ 'io.gantry.cluster': g.clusterId, 'io.gantry.instance': instance });
      const states = await Promise.all(ids.map(inspect));
      return states.every((s) => !s.running);
    }, 60_000);
    await cli(['delete', 'cronjob', 'replace']);
  });

  it('completions 5, parallelism 2: 5 successes, never more than 2 running at once', async () => {
    expect((await g.apply(job('five', 'echo run; sleep 1', '  completions: 5\n  parallelism: 2\n'))).code).toBe(0);
    let maxLive = 0;
    const done = await waitFor('five to succeed', async () => {
      const insts = (await g.getJson<{ items: Instance[] }>(['get', 'instances', '--jobs'])).items.filter((i) => i.metadata.labels?.['gantry.io/job'] === 'five');
      maxLive = Math.max(maxLive, insts.filter((i) => !['Succeeded', 'Failed'].includes(i.status?.phase ?? '')).length);
      const j = await g.getJson<Job>(['get', 'job', 'five']);
      return j.status?.phase === 'Succeeded' ? j : undefined;
    }, 90_000, 100);
    expect(done.status).toMatchObject({ succeeded: 5, failed: 0, active: 0 });
    expect(done.status?.runs.map((r) => r.exitCode)).toEqual([0, 0, 0, 0, 0]);
    expect(maxLive).toBeLessThanOrEqual(2);
    // From the run records: at no moment did three runs overlap.
    const spans = done.status!.runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const);
    for (const [s] of spans) expect(spans.filter(([a, b]) => a <= s && s < b).length).toBeLessThanOrEqual(2);
    expect(await cli(['get', 'jobs'])).toMatch(/five\s+Succeeded\s+5\/5/);
  });

  it('backoffLimit stops a job that always fails', async () => {
    expect((await g.apply(job('fails', 'echo failing; exit 3', '  backoffLimit: 2\n'))).code).toBe(0);
    const j = await waitFor('fails to fail', async () => {
      const x = await g.getJson<Job>(['get', 'job', 'fails']);
      return x.status?.phase === 'Failed' ? x : undefined;
    }, 90_000);
    expect(j.status).toMatchObject({ failed: 3, succeeded: 0 });
    expect(j.status?.runs.map((r) => r.exitCode)).toEqual([3, 3, 3]);
    expect(j.status?.conditions.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    await sleep(3000);
    expect((await g.getJson<Job>(['get', 'job', 'fails'])).status?.runs).toHaveLength(3);
    expect(await cli(['logs', 'job', 'fails', '--run', '2'])).toContain('failing');
  });

  it('server stopped across two scheduled times, back within startingDeadlineSeconds: each missed time runs once, late, none twice', async () => {
    expect((await g.apply(cronJob('restart', '@every 3s', 'echo ok', '  startingDeadlineSeconds: 30\n  successfulJobsHistoryLimit: 20\n'))).code).toBe(0);
    await waitFor('a first run of restart', async () => ((await jobsOf('restart')).length > 0 ? true : undefined), 30_000);
    await g.stop(server);
    const downAt = Date.now();
    await sleep(7500); // at least two scheduled times pass while the server is down
    const upAt = Date.now();
    await startServer();
    const after = await waitFor('a run after the restart', async () => {
      const all = await jobsOf('restart');
      return all.some((j) => scheduled(j) > upAt) ? all : undefined;
    }, 30_000);
    await cli(['cronjob', 'suspend', 'restart']);
    const times = after.map(scheduled).sort((x, y) => x - y);
    expect(new Set(times).size).toBe(times.length);
    // The times that passed while the server was down were all within the deadline: the restarted
    // server ran each of them once, late, oldest first. No gap from the first run to the last.
    const down = times.filter((t) => t > downAt && t < upAt);
    expect(down.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number), `a gap after ${new Date(times[i - 1] as number).toISOString()}`).toBe(3000);
    const lateRuns = after.filter((j) => scheduled(j) > downAt && scheduled(j) < upAt);
    expect(lateRuns.every((j) => Date.parse(j.metadata.createdAt) >= upAt)).toBe(true);
    const cj = await g.getJson<CronJob>(['get', 'cronjob', 'restart']);
    expect(cj.status!.missed).toBe(0);
    expect(await cli(['get', 'events'])).not.toMatch(/MissedSchedule\s+cronjob\/restart/);
  });
});
