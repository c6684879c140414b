import { afterEach, describe, expect, it } from 'vitest';
import type { Instance, Service } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { CrashLoopController, mayCrashLoop } from './crash-loop-controller.js';
import { ServiceController } from '../service/service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

async function setup(rescheduleAfterFailures?: number) {
  const clock = new TestClock();
  store = aStore(clock);
  await store.create(aNode('a', { ready: true }));
  await store.create(aNode('b', { ready: true }));
  const s = aService('web', { replicas: 1 });
  await store.create<Service>({ ...s, spec: { ...s.spec, ...(rescheduleAfterFailures !== undefined ? { rescheduleAfterFailures } : {}) } });
  const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(4) });
  await services.reconcile('default/web');
  const [inst] = await instancesOf(store);
  const bound = await store.update<Instance>({ ...inst!, spec: { ...inst!.spec, node: 'a' } });
  const crashLoop = new CrashLoopController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now });
  return { services, crashLoop, inst: bound };
}

/** n failures in a row, after `earlier` restarts long since forgiven (runs of 10 min or more). */
const restarted = (i: Instance, n: number, earlier = 0) =>
  setInstanceStatus(store, i, { phase: 'Starting', ready: false, containers: [{ name: 'main', state: 'waiting', restartCount: earlier + n, ...(n > 0 ? { recentFailures: n } : {}), hostPorts: {} }] });
const key = (i: Instance) => `default/${i.metadata.name}`;

describe('CrashLoopController', () => {
  it('evicts an instance restarted rescheduleAfterFailures times, with an event; its replacement avoids the node', async () => {
    const { services, crashLoop, inst } = await setup(3);
    await restarted(inst, 2);
    await crashLoop.reconcile(key(inst));
    expect((await store.get('Instance', 'default', inst.metadata.name))!.spec.evict).toBeUndefined();

    const three = await restarted(inst, 3);
    expect(mayCrashLoop(three)).toBe(true);
    await crashLoop.reconcile(key(inst));
    const evicted = (await store.get('Instance', 'default', inst.metadata.name))!;
    const message = `${inst.metadata.name} failed 3 times in a row on node a; moving it to another node`;
    expect(evicted.spec.evict).toMatchObject({ reason: 'CrashLoop', message });
    expect(mayCrashLoop(evicted)).toBe(false);
    const events = (await store.list('Event')).items.filter((e) => e.spec.reason === 'CrashLoopRescheduled');
    expect(events.map((e) => [e.spec.type, e.spec.involved.name, e.spec.message])).toEqual([['Warning', inst.metadata.name, message]]);

    await services.reconcile('default/web');
    const fresh = (await instancesOf(store)).filter((i) => i.metadata.name !== inst.metadata.name);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.spec.avoidNodes).toEqual(['a']);
  });

  it('counts failures in a row, not lifetime restarts', async () => {
    const { crashLoop, inst } = await setup(3);
    const often = await restarted(inst, 2, 40);
    expect(mayCrashLoop(often)).toBe(true);
    await crashLoop.reconcile(key(inst));
    expect((await store.get('Instance', 'default', inst.metadata.name))!.spec.evict).toBeUndefined();
    const steady = await restarted((await store.get('Instance', 'default', inst.metadata.name))!, 0, 42);
    expect(mayCrashLoop(steady)).toBe(false);
  });

  it('uses the default of 5 failures, and leaves job runs and stopping instances alone', async () => {
    const { crashLoop, inst } = await setup();
    await restarted(inst, 4);
    await crashLoop.reconcile(key(inst));
    expect((await store.get('Instance', 'default', inst.metadata.name))!.spec.evict).toBeUndefined();
    const five = await restarted(inst, 5);
    const stopping = await store.update<Instance>({ ...five, spec: { ...five.spec, stop: { at: new Date().toISOString(), reason: 'ScaleDown' } } });
    expect(mayCrashLoop(stopping)).toBe(false);
    await crashLoop.reconcile(key(inst));
    expect((await store.get('Instance', 'default', inst.metadata.name))!.spec.evict).toBeUndefined();
    expect(mayCrashLoop({ ...five, spec: { ...five.spec, ownerKind: 'Job' } })).toBe(false);
  });
});
