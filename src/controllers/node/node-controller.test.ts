import { afterEach, describe, expect, it } from 'vitest';
import { getCondition, isLive, type GantryNode } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { DEFAULT_STARTUP_GRACE_MS, NodeController } from './node-controller.js';
import { SchedulingController } from '../scheduling/scheduling-controller.js';
import { ServiceController } from '../service/service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const GRACE = 15_000;

async function heartbeat(name: string, clock: TestClock): Promise<void> {
  const node = (await store.get('Node', undefined, name))!;
  await store.update<GantryNode>({ ...node, status: { ...node.status!, ready: true, lastHeartbeat: clock.date().toISOString() } });
}

async function events(reason: string) {
  return (await store.list('Event')).items.filter((e) => e.spec.reason === reason);
}

describe('NodeController', () => {
  it('marks a silent node not ready and its instances Lost; the service controller then replaces them elsewhere', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const t0 = clock.date().toISOString();
    await store.create(aNode('n1', { lastHeartbeat: t0 }));
    await store.create(aService('web', { replicas: 2 }));
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(5) });
    const scheduler = new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1, now: clock.date });
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await services.reconcile('default/web');
    await scheduler.reconcile();
    for (const i of await instancesOf(store)) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
    expect((await instancesOf(store)).every((i) => i.spec.node === 'n1')).toBe(true);

    // A second node keeps heartbeating; n1 falls silent.
    await store.create(aNode('n2', { lastHeartbeat: t0 }));
    clock.advance(GRACE - 1);
    await heartbeat('n2', clock);
    await nodes.check();
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(true);

    clock.advance(2);
    await nodes.check();
    const n1 = (await store.get('Node', undefined, 'n1'))!;
    expect(n1.status?.ready).toBe(false);
    expect(getCondition(n1.status?.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'NodeLost' });
    expect((await store.get('Node', undefined, 'n2'))!.status?.ready).toBe(true);
    const lost = await instancesOf(store);
    for (const i of lost) {
      expect(i.status?.phase).toBe('Lost');
      expect(i.status?.ready).toBe(false);
      expect(i.status?.message).toBe(`node n1 stopped sending heartbeats at ${t0}`);
    }
    expect(await events('NodeNotReady')).toHaveLength(1);
    // One event for the node's lost instances, not one per instance.
    const [instanceLost, ...more] = await events('InstanceLost');
    expect(more).toHaveLength(0);
    expect(instanceLost!.spec.involved).toEqual({ kind: 'Node', name: 'n1', uid: n1.metadata.uid });
    expect(instanceLost!.spec.message).toMatch(new RegExp(`^2 instances lost \\(node n1 stopped sending heartbeats at ${t0}\\): `));
    for (const i of lost) expect(instanceLost!.spec.message).toContain(`default/${i.metadata.name}`);

    // A further check changes nothing.
    const rev = await store.currentRevision();
    await nodes.check();
    expect(await store.currentRevision()).toBe(rev);

    await services.reconcile('default/web');
    await scheduler.reconcile();
    const after = await instancesOf(store);
    expect(after).toHaveLength(2);
    expect(after.every(isLive)).toBe(true);
    expect(after.every((i) => i.spec.node === 'n2')).toBe(true);
    expect(after.map((i) => i.metadata.name).some((n) => lost.some((l) => l.metadata.name === n))).toBe(false);
  });

  it('records NodeReady when a lost node heartbeats again', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();
    expect(await events('NodeReady')).toHaveLength(0);
    clock.advance(GRACE + 1);
    await nodes.check();
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(false);
    await heartbeat('n1', clock); // what the API does on the next heartbeat
    await nodes.check();
    expect(await events('NodeReady')).toHaveLength(1);
    await nodes.check();
    expect(await events('NodeReady')).toHaveLength(1);
  });

  it('records no NodeReady for a new node turning ready on its first heartbeat', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await store.create(aNode('fresh', { ready: false }));
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();
    await heartbeat('fresh', clock);
    await nodes.check();
    expect(await events('NodeReady')).toHaveLength(0);
  });

  it('leaves finished instances of a lost node alone', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    await store.create(aService('web', { replicas: 1 }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger() }).reconcile('default/web');
    await new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1 }).reconcile();
    const [inst] = await instancesOf(store);
    await setInstanceStatus(store, inst!, { phase: 'Succeeded' });
    clock.advance(GRACE + 1);
    await new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now }).check();
    expect((await instancesOf(store))[0]!.status?.phase).toBe('Succeeded');
  });

  it('after a server restart, gives nodes with old heartbeats the startup grace from the controller start', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const beforeDowntime = clock.date().toISOString();
    await store.create(aNode('n1', { lastHeartbeat: beforeDowntime }));
    await store.create(aService('web', { replicas: 1 }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger() }).reconcile('default/web');
    await new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1 }).reconcile();

    clock.advance(3_600_000); // the server was down for an hour
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();
    clock.advance(DEFAULT_STARTUP_GRACE_MS - 1);
    await nodes.check();
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(true);
    expect((await instancesOf(store))[0]!.status?.phase).toBe('Pending');

    // The agent never came back: the startup grace after the start it is lost after all.
    clock.advance(2);
    await nodes.check();
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(false);
    expect((await instancesOf(store))[0]!.status?.phase).toBe('Lost');
  });

  it('marks the unfinished instances of a deleted node Lost, so the service controller replaces them', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    await store.create(aService('web', { replicas: 2 }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(2) }).reconcile('default/web');
    await new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1 }).reconcile();
    const [running, done] = await instancesOf(store);
    await setInstanceStatus(store, running!, { phase: 'Running', ready: true });
    await setInstanceStatus(store, done!, { phase: 'Succeeded' });
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();

    await store.delete('Node', undefined, 'n1');
    await nodes.check();
    const lost = (await store.get('Instance', 'default', running!.metadata.name))!;
    expect(lost.status).toMatchObject({ phase: 'Lost', ready: false, message: 'node n1 was deleted' });
    expect((await store.get('Instance', 'default', done!.metadata.name))!.status?.phase).toBe('Succeeded');
    expect(await events('InstanceLost')).toHaveLength(1);

    const rev = await store.currentRevision();
    await nodes.check();
    expect(await store.currentRevision()).toBe(rev);
  });

  it('on its first pass, finds instances of a node deleted while the server was down', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    await store.create(aService('web', { replicas: 1 }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger() }).reconcile('default/web');
    await new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1 }).reconcile();
    await store.delete('Node', undefined, 'n1');
    await new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now }).check();
    expect((await instancesOf(store))[0]!.status).toMatchObject({ phase: 'Lost', message: 'node n1 was deleted' });
  });
});
