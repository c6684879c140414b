import { describe, expect, it } from 'vitest';
import { API_VERSION, jobSpecDefaults, type Instance, type Job, type JobSpec } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { jobInstances, JobController, runInstanceName } from './job-controller.js';
import { aStore, quietLogger, setInstanceStatus, TestClock } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

async function aJob(store: Store, spec: Partial<JobSpec> = {}, name = 'batch'): Promise<Job> {
  return store.create<Job>({
    apiVersion: API_VERSION,
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: jobSpecDefaults({ containers: [{ name: 'main', image: 'busybox:1' }], ...spec }),
  });
}

function setup() {
  const clock = new TestClock();
  const store = aStore(clock);
  const controller = new JobController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now });
  const job = async (name = 'batch') => (await store.get('Job', 'default', name))!;
  const runs = async (name = 'batch') => (await jobInstances(store, 'default', name)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const finish = async (i: Instance, exitCode: number) =>
    setInstanceStatus(store, i, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      startedAt: new Date(clock.ms - 1500).toISOString(),
      updatedAt: clock.date().toISOString(),
      containers: [{ name: 'main', state: 'exited', exitCode, restartCount: 0, hostPorts: {} }],
    });
  const running = async (i: Instance) => setInstanceStatus(store, i, { phase: 'Running', startedAt: clock.date().toISOString() });
  return { clock, store, controller, job, runs, finish, running };
}

describe('JobController', () => {
  it('runs completions 5 with parallelism 2: never more than 2 live runs, then Succeeded 5/5', async () => {
    const { store, controller, job, runs, finish, running, clock } = setup();
    await aJob(store, { completions: 5, parallelism: 2 });
    let maxLive = 0;
    for (let step = 0; step < 20; step++) {
      await controller.reconcile('default/batch');
      const live = (await runs()).filter((i) => !['Succeeded', 'Failed'].includes(i.status?.phase ?? ''));
      maxLive = Math.max(maxLive, live.length);
      if ((await job()).status?.phase === 'Succeeded') break;
      for (const i of live) await running(i);
      clock.advance(1000);
      const first = live[0];
      if (first) await finish(first, 0);
    }
    const j = await job();
    expect(maxLive).toBe(2);
    expect(j.status).toMatchObject({ phase: 'Succeeded', succeeded: 5, failed: 0, active: 0 });
    expect(j.status?.runs.map((r) => r.run)).toEqual([1, 2, 3, 4, 5]);
    expect(j.status?.runs.every((r) => r.exitCode === 0 && r.durationMs === 1500)).toBe(true);
    expect((await runs()).map((i) => i.metadata.name)).toEqual(['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5']);
    const events = (await store.list('Event')).items.map((e) => e.spec.message);
    expect(events).toContain('job succeeded: 5/5 runs succeeded');
  });

  it('makes run instances owned by the Job, with run numbers, restartPolicy and runIn', async () => {
    const { store, controller, runs } = setup();
    await aJob(store, { runIn: 'warm', restartPolicy: 'OnFailure', configFiles: [{ path: '/etc/x', content: 'x', mode: '0644' }] });
    await controller.reconcile('default/batch');
    const [i] = await runs();
    expect(i?.spec).toMatchObject({ service: 'batch', ownerKind: 'Job', runIn: 'warm', restartPolicy: 'OnFailure', configFiles: [{ path: '/etc/x' }] });
    expect(i?.metadata.labels).toEqual({ 'gantry.io/job': 'batch', 'gantry.io/warm-group': 'batch' });
    expect(i?.metadata.annotations).toEqual({ 'gantry.io/run': '1' });
  });

  it('backoffLimit: a job that always fails stops after backoffLimit + 1 runs, with backoff between them', async () => {
    const { store, controller, job, runs, finish, clock } = setup();
    await aJob(store, { backoffLimit: 2 });
    for (let step = 0; step < 30; step++) {
      const r = await controller.reconcile('default/batch');
      for (const i of await runs()) if (!i.status || i.status.phase === 'Pending') await finish(i, 3);
      clock.advance(r && 'requeueAfterMs' in r ? Math.max(r.requeueAfterMs, 1) : 1);
      if ((await job()).status?.phase === 'Failed') break;
    }
    const j = await job();
    expect(j.status).toMatchObject({ phase: 'Failed', failed: 3, succeeded: 0 });
    expect(j.status?.conditions[0]).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect(j.status?.runs.map((r) => r.exitCode)).toEqual([3, 3, 3]);
    expect(await runs()).toHaveLength(3);
    // Finished: nothing more starts.
    clock.advance(3_600_000);
    await controller.reconcile('default/batch');
    expect(await runs()).toHaveLength(3);
  });

  it('activeDeadlineSeconds stops active runs through spec.stop, then removes them if their agent never answers', async () => {
    const { store, controller, job, runs, running, clock } = setup();
    await aJob(store, { activeDeadlineSeconds: 30, parallelism: 2, completions: 2 });
    await controller.reconcile('default/batch');
    for (const i of await runs()) await running(i);
    clock.advance(29_000);
    expect(await controller.reconcile('default/batch')).toEqual({ requeueAfterMs: 1000 });
    clock.advance(1000);
    await controller.reconcile('default/batch');
    const j = await job();
    expect(j.status?.phase).toBe('Failed');
    expect(j.status?.conditions[0]?.reason).toBe('DeadlineExceeded');
    const stopped = await runs();
    expect(stopped.map((i) => i.spec.stop?.reason)).toEqual(['DeadlineExceeded', 'DeadlineExceeded']);
    // The agent reports one stopped; the other never answers and is removed after grace + slack.
    await setInstanceStatus(store, stopped[0]!, { phase: 'Failed', reason: 'Stopped', containers: [{ name: 'main', state: 'exited', exitCode: 143, restartCount: 0, hostPorts: {} }] });
    clock.advance(20_000);
    await controller.reconcile('default/batch');
    expect((await runs()).map((i) => i.metadata.name)).toEqual(['batch-1']);
    const after = await job();
    expect(after.status).toMatchObject({ failed: 2, active: 0 });
    expect(after.status?.runs.find((r) => r.run === 2)?.message).toContain('stopped');
  });

  it('ttlSecondsAfterFinished deletes the Job, then its instances; run records stay until then', async () => {
    const { store, controller, job, runs, finish, clock } = setup();
    await aJob(store, { ttlSecondsAfterFinished: 60 });
    await controller.reconcile('default/batch');
    await finish((await runs())[0]!, 0);
    await controller.reconcile('default/batch');
    expect((await job()).status?.phase).toBe('Succeeded');
    clock.advance(59_000);
    expect(await controller.reconcile('default/batch')).toEqual({ requeueAfterMs: 1000 });
    expect(await runs()).toHaveLength(1);
    clock.advance(1000);
    await controller.reconcile('default/batch');
    expect(await store.get('Job', 'default', 'batch')).toBeUndefined();
    await controller.reconcile('default/batch');
    expect(await runs()).toHaveLength(0);
  });

  it('a repeated pass changes nothing (idempotent), and a stale Job write starts no run twice', async () => {
    const { store, controller, runs } = setup();
    await aJob(store, { completions: 3, parallelism: 3 });
    await controller.reconcile('default/batch');
    const rev = await store.currentRevision();
    await controller.reconcile('default/batch');
    expect(await store.currentRevision()).toBe(rev);
    expect(await runs()).toHaveLength(3);
  });

  it('leaves Service instances of the same name alone', async () => {
    const { store, controller } = setup();
    await store.create<Instance>({
      apiVersion: API_VERSION,
      kind: 'Instance',
      metadata: { name: 'batch-abcde', namespace: 'default' },
      spec: { service: 'batch', containers: [{ name: 'main', image: 'x' }], restartPolicy: 'Always', resources: { cpu: 100, memory: 1 }, templateHash: 'h' },
    });
    await controller.reconcile('default/batch'); // no Job named batch
    expect(await store.get('Instance', 'default', 'batch-abcde')).toBeDefined();
  });

  it('run names stay within 63 characters and distinct for long job names', () => {
    const a = runInstanceName(`${'a'.repeat(60)}-x`, 12);
    const b = runInstanceName(`${'a'.repeat(60)}-y`, 12);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a.endsWith('-12')).toBe(true);
  });
});
