import { afterEach, describe, expect, it } from 'vitest';
import { getCondition, type Instance, type Service } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { ServiceController } from './service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const KEY = 'default/web';

async function setup(o: { replicas?: number; update?: Service['spec']['update']; extra?: Partial<Service['spec']> } = {}) {
  const clock = new TestClock();
  store = aStore(clock);
  const controller = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(3) });
  await store.create(aNode('n1', { ready: true }));
  await store.create(aNode('n2', { ready: true }));
  const s = aService('web', { replicas: o.replicas ?? 4 });
  await store.create({ ...s, spec: { ...s.spec, ...(o.update ? { update: o.update } : {}), ...o.extra } });
  return { clock, controller };
}

async function service(): Promise<Service> {
  return (await store.get('Service', 'default', 'web'))!;
}

async function patchSpec(patch: Partial<Service['spec']>): Promise<void> {
  const s = await service();
  await store.update<Service>({ ...s, metadata: { ...s.metadata, generation: (s.metadata.generation ?? 1) + 1 }, spec: { ...s.spec, ...patch } });
}

async function setImage(image: string): Promise<void> {
  const s = await service();
  await patchSpec({ containers: [{ ...s.spec.containers[0]!, image }] });
}

/**
 * What the scheduler and the agents would do: bind to n1, run and turn ready; finish stopped ones.
 * `failImage` cannot be pulled (Pending); `slowImage` runs but is not ready yet.
 */
async function agentsAct(opts: { failImage?: string; slowImage?: string } = {}): Promise<void> {
  for (const i of await instancesOf(store)) {
    let cur: Instance = i;
    if (!cur.spec.node) cur = await store.update<Instance>({ ...cur, spec: { ...cur.spec, node: 'n1' } });
    if (cur.spec.stop) {
      if (cur.status?.phase !== 'Succeeded') await setInstanceStatus(store, cur, { phase: 'Succeeded', ready: false, reason: 'Stopped' });
    } else if (cur.spec.containers[0]?.image === opts.failImage) {
      await setInstanceStatus(store, cur, { phase: 'Pending', ready: false, reason: 'ImagePullFailed', message: `image ${opts.failImage} not found` });
    } else if (cur.spec.containers[0]?.image === opts.slowImage) {
      if (cur.status?.phase !== 'Running') await setInstanceStatus(store, cur, { phase: 'Running', ready: false });
    } else if (!cur.status?.ready) {
      await setInstanceStatus(store, cur, { phase: 'Running', ready: true });
    }
  }
}

const eventTexts = async () => (await store.list('Event', { namespace: 'default' })).items.map((e) => `${e.spec.reason}: ${e.spec.message}`);

/** `seconds` one-second passes of reconcile + agents, whatever changes (no fixed point needed). */
async function run(controller: ServiceController, clock: TestClock, seconds: number, opts: { failImage?: string; slowImage?: string } = {}): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    await controller.reconcile(KEY);
    await agentsAct(opts);
    clock.advance(1000);
  }
}

const live = (list: readonly Instance[]) => list.filter((i) => !i.spec.stop && i.status?.phase !== 'Succeeded');
const imagesOf = (list: readonly Instance[]) => live(list).map((i) => i.spec.containers[0]!.image).sort();

/** Reconcile and act until nothing changes, checking the availability floor after every step. */
async function converge(controller: ServiceController, clock: TestClock, floor: number, opts: { failImage?: string; stepMs?: number } = {}): Promise<number> {
  let minAvailable = Infinity;
  for (let pass = 0; pass < 60; pass++) {
    const before = await store.currentRevision();
    await controller.reconcile(KEY);
    const list = await instancesOf(store);
    const available = live(list).filter((i) => i.status?.ready).length;
    minAvailable = Math.min(minAvailable, available);
    expect(live(list).length).toBeLessThanOrEqual(((await service()).spec.replicas ?? 1) + 1);
    await agentsAct(opts);
    clock.advance(opts.stepMs ?? 1000);
    if ((await store.currentRevision()) === before) break;
  }
  expect(minAvailable).toBeGreaterThanOrEqual(floor);
  return minAvailable;
}

describe('ServiceController rollouts', () => {
  it('makes v1, then v2 on a template change, with instances stamped with their version and a history', async () => {
    const { clock, controller } = await setup();
    await converge(controller, clock, 0);
    let s = await service();
    expect(s.status).toMatchObject({ version: 1, updatedReplicas: 4, availableReplicas: 4, rollout: { phase: 'Complete', version: 1 } });
    expect((await instancesOf(store)).every((i) => i.spec.version === 1 && i.spec.termination?.gracePeriodSeconds === 10)).toBe(true);

    await setImage('busybox:2');
    await converge(controller, clock, 4);
    s = await service();
    expect(s.status).toMatchObject({ version: 2, updatedReplicas: 4, availableReplicas: 4, rollout: { phase: 'Complete', version: 2, fromVersion: 1 } });
    expect(imagesOf(await instancesOf(store))).toEqual(Array(4).fill('busybox:2'));
    const versions = (await store.list('ServiceVersion', { namespace: 'default' })).items.map((v) => [v.metadata.name, v.spec.cause]);
    expect(versions.sort()).toEqual([['web-v1', 'created'], ['web-v2', 'apply']]);
    const events = (await store.list('Event', { namespace: 'default' })).items.map((e) => `${e.spec.reason}: ${e.spec.message}`);
    expect(events).toContain('RolloutStarted: rolling out v2 (from v1)');
    expect(events).toContainEqual(expect.stringMatching(/^RollingUpdate: scaled up v2 to 1 \(web-\w+\)$/));
    expect(events).toContainEqual(expect.stringMatching(/^RollingUpdate: scaled down v1 to 3 \(stopping web-\w+\)$/));
    expect(events).toContain('RolloutComplete: rollout of v2 complete');
  });

  it('with maxUnavailable 1 keeps 3 of 4 available, and stops old instances gracefully (spec.stop, deleted once stopped)', async () => {
    const { clock, controller } = await setup({ update: { maxSurge: 1, maxUnavailable: 1 } });
    await converge(controller, clock, 0);
    await setImage('busybox:2');
    await controller.reconcile(KEY);
    const list = await instancesOf(store);
    const stopping = list.filter((i) => i.spec.stop);
    expect(stopping).toHaveLength(1);
    expect(stopping[0]!.spec.stop?.reason).toBe('rollout');
    expect(list.filter((i) => i.spec.version === 2)).toHaveLength(1);
    // Not deleted until its agent reports it stopped.
    await controller.reconcile(KEY);
    expect((await instancesOf(store)).some((i) => i.metadata.name === stopping[0]!.metadata.name)).toBe(true);
    await converge(controller, clock, 3);
    expect(imagesOf(await instancesOf(store))).toEqual(Array(4).fill('busybox:2'));
    expect((await instancesOf(store)).filter((i) => i.spec.stop)).toHaveLength(0);
  });

  it('deletes a stopping instance whose agent never answers after drain + grace + 30 s, or at once when its node is not ready', async () => {
    const { clock, controller } = await setup({ replicas: 2, extra: { termination: { drainDelay: '1s', gracePeriod: '2s' } } });
    await converge(controller, clock, 0);
    await patchSpec({ replicas: 0 });
    const result = await controller.reconcile(KEY);
    expect(result).toEqual({ requeueAfterMs: 33_000 });
    const [a, b] = await instancesOf(store);
    expect(a!.spec.stop && b!.spec.stop).toBeTruthy();
    const n1 = (await store.get('Node', undefined, 'n1'))!;
    await store.update({ ...n1, spec: n1.spec }); // unchanged node: still ready
    clock.advance(32_999);
    await controller.reconcile(KEY);
    expect(await instancesOf(store)).toHaveLength(2);
    clock.advance(1);
    await controller.reconcile(KEY);
    expect(await instancesOf(store)).toHaveLength(0);
  });

  it('a rollout that makes no progress fails at the deadline and rolls back to v1 by itself; v1 stays available', async () => {
    const { clock, controller } = await setup({ update: { maxSurge: 1, maxUnavailable: 1, progressDeadlineSeconds: 10 } });
    await converge(controller, clock, 0);
    const v1 = (await instancesOf(store)).map((i) => i.metadata.name).sort();
    await setImage('busybox:nope');
    await converge(controller, clock, 3, { failImage: 'busybox:nope' });
    const s = await service();
    expect(s.spec.containers[0]!.image).toBe('busybox:1.36');
    expect(s.status?.rollout).toMatchObject({ phase: 'RolledBack', version: 3 });
    expect(s.status?.rollout?.message).toMatch(/^rolled back to v1: v2 made no progress within 10s \(ProgressDeadlineExceeded\): instance web-\w+: image busybox:nope not found/);
    expect(getCondition(s.status?.conditions, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    const v3 = await store.get('ServiceVersion', 'default', 'web-v3');
    expect(v3?.spec.cause).toMatch(/^rolled back to v1: /);
    // v1 is fully back: 4 available, on the same template as v1.
    const after = live(await instancesOf(store));
    expect(after.filter((i) => i.status?.ready)).toHaveLength(4);
    expect(imagesOf(after)).toEqual(Array(4).fill('busybox:1.36'));
    // Three of the original four never stopped (maxUnavailable 1 let one go for the surge).
    expect(after.filter((i) => v1.includes(i.metadata.name)).length).toBeGreaterThanOrEqual(3);
    const events = (await store.list('Event', { namespace: 'default' })).items.map((e) => e.spec.reason);
    expect(events).toEqual(expect.arrayContaining(['RolloutFailed', 'RolledBack']));
  });

  it('an update while v1 is still Progressing (minReadySeconds not up) fails and rolls back to v1: v1 was serving', async () => {
    const { clock, controller } = await setup({ replicas: 3, update: { maxSurge: 1, maxUnavailable: 1, progressDeadlineSeconds: 10, minReadySeconds: 30 } });
    await run(controller, clock, 3);
    expect((await service()).status?.rollout).toMatchObject({ phase: 'Progressing', version: 1 });
    expect(live(await instancesOf(store)).filter((i) => i.status?.ready)).toHaveLength(3);
    await setImage('busybox:nope');
    await run(controller, clock, 15, { failImage: 'busybox:nope' });
    const s = await service();
    expect(s.spec.containers[0]!.image).toBe('busybox:1.36');
    expect(s.status?.rollout).toMatchObject({ phase: 'RolledBack', version: 3, fromVersion: 1 });
    const events = await eventTexts();
    expect(events).toContain('RolloutStarted: rolling out v2 (from v1)');
    expect(events).toContainEqual(expect.stringMatching(/^RolloutFailed: v2 made no progress within 10s \(ProgressDeadlineExceeded\): instance web-\w+: image busybox:nope not found/));
    expect(events).toContainEqual(expect.stringMatching(/^RolledBack: rolled back to v1: v2 made no progress/));
    expect(events.filter((e) => e.startsWith('NoRollbackTarget'))).toEqual([]);
    // The v2 instances go once v1's are available again (minReadySeconds 30 from when they turned ready).
    await run(controller, clock, 20);
    expect(imagesOf(await instancesOf(store))).toEqual(Array(3).fill('busybox:1.36'));
  });

  it('an update of a service whose first version never completed: no target, says so, holds, and scales v1 back up to replicas', async () => {
    const { clock, controller } = await setup({ replicas: 3, update: { maxSurge: 1, maxUnavailable: 1, progressDeadlineSeconds: 10 } });
    await patchSpec({ containers: [{ ...(await service()).spec.containers[0]!, image: 'busybox:slow' }] });
    const slow = { failImage: 'busybox:nope', slowImage: 'busybox:slow' };
    await run(controller, clock, 3, slow);
    expect((await service()).status?.rollout).toMatchObject({ phase: 'Progressing', version: 1 });
    await setImage('busybox:nope');
    await run(controller, clock, 5, slow);
    // The rollout took one v1 instance down (maxUnavailable 1).
    expect(imagesOf(await instancesOf(store))).toEqual(['busybox:nope', 'busybox:nope', 'busybox:slow', 'busybox:slow']);
    expect((await service()).status?.rollout?.fromVersion).toBeUndefined();
    await run(controller, clock, 10, slow);
    const s = await service();
    expect(s.spec.containers[0]!.image).toBe('busybox:nope');
    expect(s.status?.rollout?.phase).toBe('Failed');
    expect(s.status?.rollout?.message).toMatch(/\(ProgressDeadlineExceeded\): instance web-\w+: image busybox:nope not found.*; no earlier version completed; staying on v2 with 0 of 3 available$/);
    const events = await eventTexts();
    expect(events).toContain('RolloutStarted: rolling out v2');
    expect(events).toContain('NoRollbackTarget: no earlier version completed; staying on v2 with 0 of 3 available');
    expect(events).toContainEqual(expect.stringMatching(/^ScalingUp: scaled v1 back up to 3 \(web-\w+\): the rollout of v2 failed and was not rolled back$/));
    expect(events.filter((e) => e.startsWith('RolledBack'))).toEqual([]);
    // Held: v1 back at 3, the two v2 instances left to back off, nothing more created or stopped.
    const held = imagesOf(await instancesOf(store));
    expect(held).toEqual(['busybox:nope', 'busybox:nope', 'busybox:slow', 'busybox:slow', 'busybox:slow']);
    // v1 turns ready: the status follows; the mix holds.
    await run(controller, clock, 20, { failImage: 'busybox:nope' });
    expect(imagesOf(await instancesOf(store))).toEqual(held);
    expect((await service()).status?.rollout?.message).toMatch(/staying on v2 with 3 of 3 available$/);
    expect((await service()).status?.availableReplicas).toBe(3);
    expect((await store.get('ServiceVersion', 'default', 'web-v3'))).toBeUndefined();
  });

  it('a held failed rollout goes on once its image appears, and completes', async () => {
    const { clock, controller } = await setup({ replicas: 2, update: { maxSurge: 1, maxUnavailable: 1, progressDeadlineSeconds: 5, autoRollback: false } });
    await run(controller, clock, 3);
    await setImage('busybox:late');
    await run(controller, clock, 10, { failImage: 'busybox:late' });
    expect((await service()).status?.rollout).toMatchObject({ phase: 'Failed', version: 2 });
    expect((await service()).status?.rollout?.message).toMatch(/autoRollback is off; staying on v2 with 2 of 2 available$/);
    expect(live(await instancesOf(store)).filter((i) => i.spec.version === 1)).toHaveLength(2);
    await run(controller, clock, 15);
    expect((await service()).status?.rollout).toMatchObject({ phase: 'Complete', version: 2 });
    expect(imagesOf(await instancesOf(store))).toEqual(['busybox:late', 'busybox:late']);
    expect(await eventTexts()).toContain('RolloutResumed: rollout of v2 resumed: a new instance became available');
  });

  it('without autoRollback a failed rollout stays Failed with ProgressDeadlineExceeded and the reason', async () => {
    const { clock, controller } = await setup({ replicas: 2, update: { progressDeadlineSeconds: 5, autoRollback: false } });
    await converge(controller, clock, 0);
    await setImage('busybox:nope');
    await converge(controller, clock, 2, { failImage: 'busybox:nope' });
    const s = await service();
    expect(s.spec.containers[0]!.image).toBe('busybox:nope');
    expect(s.status?.rollout?.phase).toBe('Failed');
    const cond = getCondition(s.status?.conditions, 'Progressing');
    expect(cond).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond?.message).toContain('image busybox:nope not found');
  });

  it('canary: pauses after N new instances until promoted, then finishes', async () => {
    const { clock, controller } = await setup({ update: { canary: 1 } });
    await converge(controller, clock, 0);
    await setImage('busybox:2');
    await converge(controller, clock, 4);
    let s = await service();
    expect(s.status?.rollout?.phase).toBe('CanaryPaused');
    expect(imagesOf(await instancesOf(store))).toEqual(['busybox:1.36', 'busybox:1.36', 'busybox:1.36', 'busybox:2']);
    // The deadline does not run while waiting for promote.
    clock.advance(3_600_000);
    await controller.reconcile(KEY);
    expect((await service()).status?.rollout?.phase).toBe('CanaryPaused');
    s = await service();
    await store.update<Service>({ ...s, status: { ...s.status!, rollout: { ...s.status!.rollout!, promoted: true } } });
    await converge(controller, clock, 4);
    expect((await service()).status?.rollout?.phase).toBe('Complete');
    expect(imagesOf(await instancesOf(store))).toEqual(Array(4).fill('busybox:2'));
  });

  it('paused holds the mix of versions; resume finishes', async () => {
    const { clock, controller } = await setup();
    await converge(controller, clock, 0);
    await setImage('busybox:2');
    for (let step = 0; step < 3; step++) {
      await controller.reconcile(KEY);
      await agentsAct();
    }
    await patchSpec({ paused: true });
    await controller.reconcile(KEY);
    const held = imagesOf(await instancesOf(store));
    expect(held).toContain('busybox:2');
    expect(held).toContain('busybox:1.36');
    await converge(controller, clock, 4);
    expect(imagesOf(await instancesOf(store))).toEqual(held);
    expect((await service()).status?.rollout?.phase).toBe('Paused');
    await patchSpec({ paused: false });
    await converge(controller, clock, 4);
    expect(imagesOf(await instancesOf(store))).toEqual(Array(4).fill('busybox:2'));
  });

  it('Recreate stops every old instance before it creates new ones', async () => {
    const { clock, controller } = await setup({ replicas: 3, update: { strategy: 'Recreate' } });
    await converge(controller, clock, 0);
    await setImage('busybox:2');
    await controller.reconcile(KEY);
    let list = await instancesOf(store);
    expect(list.filter((i) => i.spec.stop)).toHaveLength(3);
    expect(list.filter((i) => i.spec.version === 2)).toHaveLength(0);
    await controller.reconcile(KEY); // still stopping: nothing new yet
    expect((await instancesOf(store)).filter((i) => i.spec.version === 2)).toHaveLength(0);
    await converge(controller, clock, 0);
    list = await instancesOf(store);
    expect(imagesOf(list)).toEqual(Array(3).fill('busybox:2'));
  });

  it('replaces an evicted instance surge-first; CrashLoop replacements avoid the node it failed on', async () => {
    const { clock, controller } = await setup({ replicas: 2 });
    await converge(controller, clock, 0);
    const [victim] = await instancesOf(store);
    await store.update<Instance>({ ...victim!, spec: { ...victim!.spec, evict: { at: new Date(clock.ms).toISOString(), reason: 'CrashLoop' } } });
    await controller.reconcile(KEY);
    let list = await instancesOf(store);
    expect(list.find((i) => i.metadata.name === victim!.metadata.name)?.spec.stop).toBeUndefined(); // surge first
    const fresh = list.filter((i) => !i.spec.node);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.spec.avoidNodes).toEqual(['n1']);
    await converge(controller, clock, 2);
    list = await instancesOf(store);
    expect(list.map((i) => i.metadata.name)).not.toContain(victim!.metadata.name);
    expect(live(list)).toHaveLength(2);
  });

  it('a drain says what moved: a replacement started for each evicted instance, then the evicted one stopped; no empty steps', async () => {
    const { clock, controller } = await setup({ replicas: 4 });
    await converge(controller, clock, 0);
    await setImage('busybox:6'); // v2, so that versions other than v1 show in the messages
    await converge(controller, clock, 4);
    const before = (await eventTexts()).length;
    const victims = (await instancesOf(store)).slice(0, 2);
    for (const v of victims) {
      await store.update<Instance>({ ...v, spec: { ...v.spec, evict: { at: new Date(clock.ms).toISOString(), reason: 'NodeDrain', message: 'node n1 is draining' } } });
    }
    await converge(controller, clock, 4);
    const events = (await eventTexts()).slice(before);
    const names = victims.map((v) => v.metadata.name);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e).toMatch(/^Rescheduling: /);
    // Started replacements name the evicted instances and why; never "scaled up v2 to 5" when 4 run.
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^Rescheduling: started 1 replacement \\(web-\\w+\\) for evicted ${names[0]}, ${names[1]}: node n1 is draining$`)));
    for (const n of names) expect(events).toContainEqual(`Rescheduling: stopping evicted instance ${n}: node n1 is draining`);
    expect(events.join('\n')).not.toMatch(/scaled (up|down)|rolling web/);
    expect(live(await instancesOf(store))).toHaveLength(4);
  });

  it('a rollout step says how many live instances of each version remain', async () => {
    const { clock, controller } = await setup({ replicas: 2, update: { maxSurge: 1, maxUnavailable: 0 } });
    await converge(controller, clock, 0);
    await setImage('busybox:2');
    await converge(controller, clock, 2);
    const events = (await eventTexts()).filter((e) => e.startsWith('RollingUpdate'));
    expect(events).toEqual([
      expect.stringMatching(/^RollingUpdate: scaled up v2 to 1 \(web-\w+\)$/),
      expect.stringMatching(/^RollingUpdate: scaled down v1 to 1 \(stopping web-\w+\)$/),
      expect.stringMatching(/^RollingUpdate: scaled up v2 to 2 \(web-\w+\)$/),
      expect.stringMatching(/^RollingUpdate: scaled down v1 to 0 \(stopping web-\w+\)$/),
    ]);
  });

  it('a pass that only deletes the object of a stopped old instance (rollout paused meanwhile) records no empty RollingUpdate', async () => {
    const { controller } = await setup({ replicas: 2, update: { maxSurge: 1, maxUnavailable: 0 } });
    for (let k = 0; k < 3; k++) {
      await controller.reconcile(KEY);
      await agentsAct();
    }
    await setImage('busybox:2');
    await controller.reconcile(KEY); // v2's first instance
    await agentsAct();
    await controller.reconcile(KEY); // it is ready: one v1 instance stops
    expect((await instancesOf(store)).filter((i) => i.spec.stop)).toHaveLength(1);
    await patchSpec({ paused: true });
    await agentsAct(); // the agent reports it stopped
    const before = await eventTexts();
    await controller.reconcile(KEY); // deletes its object; paused: nothing else
    expect((await instancesOf(store)).filter((i) => i.spec.stop)).toHaveLength(0);
    const added = (await eventTexts()).filter((e) => !before.includes(e));
    expect(added.filter((e) => e.startsWith('RollingUpdate'))).toEqual([]);
  });

  it('ignores Job instances that share the spec.service index', async () => {
    const { clock, controller } = await setup({ replicas: 1 });
    await converge(controller, clock, 0);
    const [mine] = await instancesOf(store);
    await store.create<Instance>({
      ...mine!,
      metadata: { name: 'web-job-1', namespace: 'default' },
      spec: { ...mine!.spec, ownerKind: 'Job', templateHash: 'other' },
    });
    await converge(controller, clock, 1);
    const list = await instancesOf(store);
    expect(list.find((i) => i.metadata.name === 'web-job-1')?.spec.stop).toBeUndefined();
    expect((await service()).status?.replicas).toBe(1);
  });

  it('a changed Config rolls the services whose files reference it, with cause "config changed"', async () => {
    const { clock, controller } = await setup({ replicas: 1, extra: { configFiles: [{ path: '/etc/app.conf', configRef: { name: 'app', key: 'conf' } }] } });
    await store.create({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: 'app', namespace: 'default' }, spec: { data: { conf: 'a=1' } } });
    await converge(controller, clock, 0);
    const cfg = (await store.get('Config', 'default', 'app'))!;
    await store.update({ ...cfg, spec: { data: { conf: 'a=2' } } });
    await converge(controller, clock, 1);
    expect((await service()).status?.version).toBe(2);
    expect((await store.get('ServiceVersion', 'default', 'web-v2'))?.spec.cause).toBe('config changed');
  });

  it('keeps historyLimit versions', async () => {
    const { clock, controller } = await setup({ replicas: 1, extra: { historyLimit: 2 } });
    for (const tag of ['2', '3', '4']) {
      await converge(controller, clock, 0);
      await setImage(`busybox:${tag}`);
    }
    await converge(controller, clock, 0);
    const kept = (await store.list('ServiceVersion', { namespace: 'default' })).items.map((v) => v.spec.version).sort();
    expect(kept).toEqual([3, 4]);
  });

  it('a deleted service stops its instances, deletes them once stopped, and deletes its history', async () => {
    const { clock, controller } = await setup({ replicas: 2 });
    await converge(controller, clock, 0);
    await store.delete('Service', 'default', 'web');
    await controller.reconcile(KEY);
    expect((await instancesOf(store)).every((i) => i.spec.stop?.reason === 'service deleted')).toBe(true);
    expect((await store.list('ServiceVersion', { namespace: 'default' })).items).toHaveLength(0);
    await agentsAct();
    await controller.reconcile(KEY);
    expect(await instancesOf(store)).toHaveLength(0);
  });
});
