import { afterEach, describe, expect, it } from 'vitest';
import { isFinished, type GantryNode, type Instance } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { DrainController } from './drain-controller.js';
import { SchedulingController } from '../scheduling/scheduling-controller.js';
import { ServiceController } from '../service/service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

async function setNodeSpec(name: string, spec: GantryNode['spec']): Promise<void> {
  const node = (await store.get('Node', undefined, name))!;
  await store.update<GantryNode>({ ...node, spec });
}

const eventsOf = async (reason: string) => (await store.list('Event')).items.filter((e) => e.spec.reason === reason);

/** What agents do: run bound instances, finish stopped ones. */
async function agentsAct(): Promise<void> {
  for (const i of await instancesOf(store)) {
    if (!i.spec.node || isFinished(i)) continue;
    if (i.spec.stop) await setInstanceStatus(store, i, { phase: 'Succeeded', ready: false, reason: 'Stopped' });
    else if (!i.status?.ready) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
  }
}

async function setup(replicas: number, maxUnavailable: number) {
  const clock = new TestClock();
  store = aStore(clock);
  await store.create(aNode('a', { ready: true }));
  const s = aService('web', { replicas });
  await store.create({ ...s, spec: { ...s.spec, update: { maxSurge: 1, maxUnavailable } } });
  const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(2) });
  const scheduler = new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1, now: clock.date });
  const drain = new DrainController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now });
  const step = async () => {
    await services.reconcile('default/web');
    await scheduler.reconcile();
    await agentsAct();
    clock.advance(1000);
  };
  for (let k = 0; k < 3; k++) await step();
  await store.create(aNode('b', { ready: true }));
  return { clock, services, scheduler, drain, step };
}

describe('DrainController', () => {
  it('evicts the live instances of a draining node; the service controller moves them within maxUnavailable', async () => {
    const { drain, step } = await setup(4, 1);
    expect((await instancesOf(store)).map((i) => i.spec.node)).toEqual(['a', 'a', 'a', 'a']);
    await setNodeSpec('a', { unschedulable: true, draining: true });

    const first = await drain.reconcile('a');
    expect(first).toEqual({ requeueAfterMs: expect.any(Number) });
    const evicted = await instancesOf(store);
    expect(evicted.every((i) => i.spec.evict?.reason === 'NodeDrain' && i.spec.evict.message === 'node a is draining')).toBe(true);
    expect((await eventsOf('InstanceEvicted')).map((e) => e.spec.involved.name).sort()).toEqual(evicted.map((i) => i.metadata.name).sort());

    let minReady = Infinity;
    for (let k = 0; k < 30; k++) {
      await step();
      await drain.reconcile('a');
      const live = (await instancesOf(store)).filter((i) => !isFinished(i) && !i.spec.stop);
      minReady = Math.min(minReady, live.filter((i) => i.status?.ready).length);
    }
    const left = (await instancesOf(store)).filter((i) => !isFinished(i));
    expect(left).toHaveLength(4);
    expect(left.every((i) => i.spec.node === 'b' && !i.spec.evict)).toBe(true);
    expect(minReady).toBeGreaterThanOrEqual(3);
    // Drained is said once, however often the node is looked at.
    await drain.reconcile('a');
    expect((await eventsOf('NodeDrained')).map((e) => e.spec.message)).toEqual(['node a drained: no instances left; gantry node uncordon a to use it again']);
  });

  it('leaves nodes alone that are only cordoned, and job runs on a draining node', async () => {
    const { drain } = await setup(2, 1);
    await setNodeSpec('a', { unschedulable: true });
    expect(await drain.reconcile('a')).toBeUndefined();
    expect((await instancesOf(store)).some((i) => i.spec.evict)).toBe(false);

    const [one] = await instancesOf(store);
    await store.create<Instance>({ ...one!, metadata: { name: 'batch-1', namespace: 'default' }, spec: { ...one!.spec, service: 'batch', ownerKind: 'Job' } });
    await setNodeSpec('a', { unschedulable: true, draining: true });
    await drain.reconcile('a');
    expect((await store.get('Instance', 'default', 'batch-1'))!.spec.evict).toBeUndefined();
    // The job run keeps the node from counting as drained until it finishes.
    for (const i of await instancesOf(store)) await setInstanceStatus(store, i, { phase: 'Succeeded', ready: false, reason: 'Stopped' });
    expect(await eventsOf('NodeDrained')).toHaveLength(0);
    await drain.reconcile('a');
    expect(await eventsOf('NodeDrained')).toHaveLength(0);
    const batch = (await store.get('Instance', 'default', 'batch-1'))!;
    await setInstanceStatus(store, batch, { phase: 'Succeeded', ready: false, reason: 'Completed' });
    expect(await drain.reconcile('a')).toBeUndefined();
    expect(await eventsOf('NodeDrained')).toHaveLength(1);
  });
});
