import { describe, expect, it } from 'vitest';
import { API_VERSION, cronJobSpecDefaults, type CronJob, type CronJobSpec } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { CRONJOB_LABEL, CronController, SCHEDULED_TIME_ANNOTATION } from './cron-controller.js';
import { FireQueue } from './fire-queue.js';
import { JobController } from './job-controller.js';
import { STOP_ANNOTATION } from './job-plan.js';
import { aStore, quietLogger, TestClock } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

async function aCronJob(store: Store, spec: Partial<CronJobSpec> = {}, name = 'tick'): Promise<CronJob> {
  return store.create<CronJob>({
    apiVersion: API_VERSION,
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: cronJobSpecDefaults({ schedule: '@every 2s', jobTemplate: { containers: [{ name: 'main', image: 'busybox:1' }] }, ...spec }),
  });
}

/** A controller on `store` as a fresh server process would build it (its own fire queue). */
function aController(store: Store, clock: TestClock) {
  const fired: string[] = [];
  const fireQueue = new FireQueue({ onFire: (k) => fired.push(k), now: clock.now, setTimer: () => 1, clearTimer: () => undefined });
  const jobsOf = (ns: string, cj: string) => {
    // Synchronous view like the informer's cache, filled by the test after each pass.
    return names.filter((n) => n.ns === ns && n.cj === cj).map((n) => n.name);
  };
  const names: { ns: string; cj: string; name: string }[] = [];
  const controller = new CronController({ events: new EventRecorder(store), store, logger: quietLogger(), fireQueue, jobsOf, now: clock.now });
  const sync = async () => {
    names.length = 0;
    for (const j of (await store.list('Job')).items) {
      const cj = j.metadata.labels?.[CRONJOB_LABEL];
      if (cj) names.push({ ns: j.metadata.namespace ?? '', cj, name: j.metadata.name });
    }
  };
  const pass = async (key = 'default/tick') => {
    await sync();
    for (let i = 0; i < 5; i++) {
      const r = await controller.reconcile(key);
      await sync();
      if (!r) break;
    }
  };
  return { controller, fireQueue, fired, pass };
}

async function jobsOf(store: Store) {
  return (await store.list('Job')).items.map((j) => ({ name: j.metadata.name, at: j.metadata.annotations?.[SCHEDULED_TIME_ANNOTATION] })).sort((a, b) => a.name.localeCompare(b.name));
}

describe('CronController', () => {
  it('fires each scheduled time once: Job <name>-<unix seconds>, lastScheduleTime recorded with it', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store);
    const { pass, fireQueue } = aController(store, clock);
    await pass();
    expect(await jobsOf(store)).toEqual([]);
    expect(fireQueue.nextAt('default/tick')).toBe(T0 + 2000);
    clock.advance(2000);
    await pass();
    await pass(); // a second pass at the same time: no second run
    expect(await jobsOf(store)).toEqual([{ name: `tick-${T0 / 1000 + 2}`, at: '2025-01-01T00:00:02.000Z' }]);
    const cj = (await store.get('CronJob', 'default', 'tick'))!;
    expect(cj.status).toMatchObject({ lastScheduleTime: '2025-01-01T00:00:02.000Z', nextScheduleTime: '2025-01-01T00:00:04.000Z', missed: 0, active: [`tick-${T0 / 1000 + 2}`] });
    expect(fireQueue.nextAt('default/tick')).toBe(T0 + 4000);
    clock.advance(2000);
    await pass();
    expect((await jobsOf(store)).map((j) => j.at)).toEqual(['2025-01-01T00:00:02.000Z', '2025-01-01T00:00:04.000Z']);
  });

  it('after a restart across two scheduled times within startingDeadlineSeconds: both run late, oldest first, none missed', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { startingDeadlineSeconds: 10 });
    clock.advance(2000);
    await aController(store, clock).pass(); // fires 00:02
    // The server is down from 00:02.5 to 00:07: 00:04 and 00:06 pass unseen.
    clock.advance(5000);
    const restarted = aController(store, clock);
    await restarted.pass();
    await restarted.pass();
    await restarted.pass();
    expect((await jobsOf(store)).map((j) => j.at)).toEqual(['2025-01-01T00:00:02.000Z', '2025-01-01T00:00:04.000Z', '2025-01-01T00:00:06.000Z']);
    const cj = (await store.get('CronJob', 'default', 'tick'))!;
    expect(cj.status).toMatchObject({ lastScheduleTime: '2025-01-01T00:00:06.000Z', missed: 0 });
    const events = (await store.list('Event')).items.map((e) => e.spec.message);
    expect(events.some((m) => m.startsWith('missed'))).toBe(false);
    expect(events.some((m) => m.startsWith('scheduled run at 2025-01-01T00:00:04.000Z') && m.endsWith('3s late'))).toBe(true);
    expect(events.some((m) => m.startsWith('scheduled run at 2025-01-01T00:00:06.000Z') && m.endsWith('1s late'))).toBe(true);
  });

  it('missed times older than startingDeadlineSeconds are counted; those within it run once each', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { startingDeadlineSeconds: 3 });
    clock.advance(10_500); // 00:02 .. 00:10 passed unseen; 00:08 and 00:10 are within 3 s
    await aController(store, clock).pass();
    await aController(store, clock).pass();
    await aController(store, clock).pass();
    expect((await jobsOf(store)).map((j) => j.at)).toEqual(['2025-01-01T00:00:08.000Z', '2025-01-01T00:00:10.000Z']);
    expect((await store.get('CronJob', 'default', 'tick'))!.status).toMatchObject({ missed: 3, lastScheduleTime: '2025-01-01T00:00:10.000Z' });
  });

  it('a time already past the deadline runs nothing and is counted as missed, with a warning', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { schedule: '*/10 * * * * *', startingDeadlineSeconds: 2 });
    clock.advance(35_000); // 00:10, 00:20, 00:30 passed; the latest is 5 s late
    await aController(store, clock).pass();
    expect(await jobsOf(store)).toEqual([]);
    const cj = (await store.get('CronJob', 'default', 'tick'))!;
    expect(cj.status).toMatchObject({ missed: 3, lastMissedTime: '2025-01-01T00:00:30.000Z', nextScheduleTime: '2025-01-01T00:00:40.000Z' });
    expect((await store.list('Event')).items.map((e) => e.spec.message)).toContain('missed 3 runs (past startingDeadlineSeconds 2); latest at 2025-01-01T00:00:30.000Z');
    // Not counted twice on the next pass.
    await aController(store, clock).pass();
    expect((await store.get('CronJob', 'default', 'tick'))!.status!.missed).toBe(3);
  });

  it('Forbid skips a time while a job runs and counts it as missed', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { concurrencyPolicy: 'Forbid' });
    const { pass } = aController(store, clock);
    clock.advance(2000);
    await pass();
    clock.advance(2000);
    await pass();
    expect(await jobsOf(store)).toHaveLength(1);
    expect((await store.get('CronJob', 'default', 'tick'))!.status).toMatchObject({ missed: 1, active: [`tick-${T0 / 1000 + 2}`] });
    // The job finishes: the next time runs.
    const job = (await store.get('Job', 'default', `tick-${T0 / 1000 + 2}`))!;
    await store.update({ ...job, status: { phase: 'Succeeded', active: 0, succeeded: 1, failed: 0, runs: [], conditions: [], completionTime: clock.date().toISOString() } });
    clock.advance(2000);
    await pass();
    expect(await jobsOf(store)).toHaveLength(2);
  });

  it('Replace marks the running job to stop; the job controller then stops its runs', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { concurrencyPolicy: 'Replace' });
    const { pass } = aController(store, clock);
    const jobs = new JobController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now });
    clock.advance(2000);
    await pass();
    const first = `tick-${T0 / 1000 + 2}`;
    await jobs.reconcile(`default/${first}`);
    clock.advance(2000);
    await pass();
    const old = (await store.get('Job', 'default', first))!;
    expect(old.metadata.annotations?.[STOP_ANNOTATION]).toBe(`replaced by tick-${T0 / 1000 + 4}`);
    await jobs.reconcile(`default/${first}`);
    const inst = (await store.get('Instance', 'default', `${first}-1`))!;
    expect(inst.spec.stop?.reason).toBe(`replaced by tick-${T0 / 1000 + 4}`);
    expect((await store.get('Job', 'default', first))!.status).toMatchObject({ phase: 'Failed', conditions: [{ reason: 'Stopped' }] });
  });

  it('keeps successfulJobsHistoryLimit succeeded and failedJobsHistoryLimit failed jobs', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 });
    const { pass } = aController(store, clock);
    for (let k = 0; k < 6; k++) {
      clock.advance(2000);
      await pass();
      for (const j of (await store.list('Job')).items) {
        if (j.status) continue;
        const phase = k % 2 === 0 ? 'Succeeded' : 'Failed';
        await store.update({ ...j, status: { phase, active: 0, succeeded: 0, failed: 0, runs: [], conditions: [], completionTime: clock.date().toISOString() } });
      }
    }
    await pass();
    const left = (await store.list('Job')).items.map((j) => `${j.metadata.annotations?.[SCHEDULED_TIME_ANNOTATION]?.slice(17, 19)}:${j.status?.phase}`).sort();
    expect(left).toEqual(['06:Succeeded', '10:Succeeded', '12:Failed']);
  });

  it('suspend fires nothing and takes the CronJob off the fire queue', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store, { suspend: true });
    const { pass, fireQueue } = aController(store, clock);
    clock.advance(10_000);
    await pass();
    expect(await jobsOf(store)).toEqual([]);
    expect(fireQueue.nextAt('default/tick')).toBeUndefined();
  });

  it('deleting the CronJob deletes its jobs', async () => {
    const clock = new TestClock(T0);
    const store = aStore(clock);
    await aCronJob(store);
    const { pass } = aController(store, clock);
    clock.advance(2000);
    await pass();
    await store.delete('CronJob', 'default', 'tick');
    await pass();
    expect(await jobsOf(store)).toEqual([]);
  });
});
