// The node controller with in-memory heartbeat leases (what the server runs), and at scale: a
// rack of nodes falling silent at once is a few transactions, not thousands of writes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCondition, type Instance } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import type { NewObject } from '../../store/store.js';
import { DEFAULT_STARTUP_GRACE_MS, NodeController } from './node-controller.js';
import { NodeLeases } from '../../runtime/node-leases.js';
import { anInstance, aNode } from '../../core/test-builders.js';
import { TestClock, aStore, quietLogger } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';
import { MAX_UPDATES_PER_TXN } from '../shared/chunked-updates.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const GRACE = 15_000;

/** An instance bound to `node` and running there. */
function aBoundInstance(name: string, node: string): NewObject<Instance> {
  return anInstance(name, { node, status: { phase: 'Running', ready: true, containers: [] } });
}

async function readyOf(name: string): Promise<boolean | undefined> {
  return (await store.get('Node', undefined, name))?.status?.ready;
}

async function events(reason: string) {
  return (await store.list('Event')).items.filter((e) => e.spec.reason === reason);
}

function setup(maxHeartbeatsPerSecond?: number) {
  const clock = new TestClock();
  store = aStore(clock);
  const leases = new NodeLeases();
  const controller = () => new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, leases, maxHeartbeatsPerSecond });
  return { clock, leases, controller };
}

describe('NodeController with leases', () => {
  it('keeps a node ready whose lease is fresh although its stored heartbeat is old', async () => {
    const { clock, leases, controller } = setup();
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    const nodes = controller();
    for (let t = 0; t < 4 * GRACE; t += 5000) {
      clock.advance(5000);
      leases.renew('n1', clock.now()); // a heartbeat the API did not persist
      await nodes.check();
    }
    expect(await readyOf('n1')).toBe(true);
  });

  it('marks a node with no heartbeat past the grace period not ready, stamping its last lease', async () => {
    const { clock, leases, controller } = setup();
    const t0 = clock.date().toISOString();
    await store.create(aNode('quiet', { lastHeartbeat: t0 }));
    await store.create(aNode('renewed', { lastHeartbeat: t0 }));
    const nodes = controller();
    clock.advance(10_000);
    const lastBeat = clock.date().toISOString();
    leases.renew('renewed', clock.now());
    clock.advance(GRACE - 9_999);
    await nodes.check();
    expect(await readyOf('quiet')).toBe(false);
    expect(await readyOf('renewed')).toBe(true);

    clock.advance(10_000);
    await nodes.check();
    const renewed = (await store.get('Node', undefined, 'renewed'))!;
    expect(renewed.status?.ready).toBe(false);
    // The stored heartbeat was t0; the lease knew better, and `get nodes` now says so.
    expect(renewed.status?.lastHeartbeat).toBe(lastBeat);
    expect(getCondition(renewed.status?.conditions, 'Ready')?.message).toBe(`node renewed stopped sending heartbeats at ${lastBeat}`);
  });

  it('after a restart (a new, empty lease table) gives a node not heard from since the startup grace, and one heard from the grace period', async () => {
    const { clock } = setup();
    await store.create(aNode('back', { lastHeartbeat: clock.date().toISOString() }));
    await store.create(aNode('gone', { lastHeartbeat: clock.date().toISOString() }));
    clock.advance(45_000); // the stored heartbeats are up to a persist interval old, and the server was down
    const fresh = new NodeLeases();
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, leases: fresh });
    await nodes.check();
    clock.advance(5000);
    fresh.renew('back', clock.now());
    // back stops again: a grace period after its heartbeat it is lost; gone is still in the startup grace.
    clock.advance(GRACE + 1);
    await nodes.check();
    expect(await readyOf('back')).toBe(false);
    expect(await readyOf('gone')).toBe(true);

    clock.advance(DEFAULT_STARTUP_GRACE_MS - GRACE - 5000 - 1);
    await nodes.check();
    expect(await readyOf('gone')).toBe(true);
    clock.advance(2);
    await nodes.check();
    expect(await readyOf('gone')).toBe(false);
  });

  it('forgets the lease of a deleted node', async () => {
    const { clock, leases, controller } = setup();
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    const nodes = controller();
    leases.renew('n1', clock.now());
    await nodes.check();
    await store.delete('Node', undefined, 'n1');
    await nodes.check();
    expect(leases.lastRenewed('n1')).toBeUndefined();
  });
});

describe('NodeController when a rack dies', () => {
  it('marks 300 silent nodes and their 900 instances in a few transactions, with one event of each kind per node', async () => {
    const { clock, leases, controller } = setup();
    const t0 = clock.date().toISOString();
    const NODES = 300;
    await store.txn([
      // Half the cluster: more would be a disruption, whose instances are left alone (see below).
      ...Array.from({ length: 2 * NODES }, (_, n) => ({ op: 'create' as const, object: aNode(`n${n}`, { lastHeartbeat: t0 }) })),
      ...Array.from({ length: NODES * 3 }, (_, i) => ({ op: 'create' as const, object: aBoundInstance(`web-${i}`, `n${i % NODES}`) })),
    ]);
    const nodes = controller();
    await nodes.check(); // first pass: the orphan scan; nothing to do
    clock.advance(GRACE + 1);
    for (let n = NODES; n < 2 * NODES; n++) leases.renew(`n${n}`, clock.now()); // the nodes outside the rack live on

    const txn = vi.spyOn(store, 'txn');
    const update = vi.spyOn(store, 'update');
    const create = vi.spyOn(store, 'create');
    const before = await store.currentRevision();
    await nodes.check();

    const notReady = (await store.list('Node')).items.filter((n) => n.status?.ready === false);
    expect(notReady).toHaveLength(NODES);
    const instances = (await store.list('Instance')).items;
    expect(instances.every((i) => i.status?.phase === 'Lost')).toBe(true);
    // Nodes, instances, events: one transaction each, and no one-by-one writes.
    // Nodes, then instances, in chunks; the events (one of each kind per node) in one more.
    expect(txn.mock.calls.length).toBeLessThanOrEqual(Math.ceil(NODES / MAX_UPDATES_PER_TXN) + Math.ceil((3 * NODES) / MAX_UPDATES_PER_TXN) + 1);
    expect(update).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();
    expect(txn.mock.calls.every(([ops]) => ops.length <= 1000)).toBe(true);
    // One revision per transaction, and every change landed (checked through the objects above).
    expect(await store.currentRevision()).toBe(before + txn.mock.calls.length);

    const lost = await events('InstanceLost');
    expect(lost).toHaveLength(NODES);
    expect(new Set(lost.map((e) => e.spec.involved.name)).size).toBe(NODES);
    expect(lost.every((e) => e.spec.message.startsWith('3 instances lost (node n'))).toBe(true);
    expect(await events('NodeNotReady')).toHaveLength(NODES);

    // Nothing is left to do on the next pass.
    const after = await store.currentRevision();
    await nodes.check();
    expect(await store.currentRevision()).toBe(after);
  });

  it('splits more than 1,000 lost instances over several transactions', async () => {
    const { clock, controller } = setup();
    await store.txn([
      { op: 'create', object: aNode('big', { lastHeartbeat: clock.date().toISOString() }) },
      ...Array.from({ length: 2500 }, (_, i) => ({ op: 'create' as const, object: aBoundInstance(`web-${i}`, 'big') })),
    ]);
    const nodes = controller();
    clock.advance(GRACE + 1);
    const txn = vi.spyOn(store, 'txn');
    await nodes.check();
    const sizes = txn.mock.calls.map(([ops]) => ops.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    expect((await store.list('Instance')).items.every((i) => i.status?.phase === 'Lost')).toBe(true);
    const [lost, ...more] = await events('InstanceLost');
    expect(more).toHaveLength(0);
    expect(lost!.spec.message).toMatch(/^2500 instances lost .* and 2490 more$/);
  });

  it('leaves a node whose heartbeat lands during the pass alone, and still marks the rest', async () => {
    const { clock, controller } = setup();
    await store.txn(Array.from({ length: 5 }, (_, n) => ({ op: 'create' as const, object: aNode(`n${n}`, { lastHeartbeat: clock.date().toISOString() }) })));
    const nodes = controller();
    clock.advance(GRACE + 1);
    // n2's heartbeat is written between the controller's read and its transaction.
    const list = store.list.bind(store);
    vi.spyOn(store, 'list').mockImplementationOnce(async (kind, opts) => {
      const read = await list(kind, opts);
      const n2 = (await store.get('Node', undefined, 'n2'))!;
      await store.update({ ...n2, status: { ...n2.status!, lastHeartbeat: clock.date().toISOString() } });
      return read;
    });
    await nodes.check();
    expect(await Promise.all(['n0', 'n1', 'n2', 'n3', 'n4'].map(readyOf))).toEqual([false, false, true, false, false]);
  });
});

describe('NodeController with the heartbeat pace of a big cluster', () => {
  /**
   * n1 and `others` more Nodes, all heartbeating but n1 after the first check: n1 is still ready
   * after `toleratedMs` of silence and marked not ready 1 ms later.
   */
  async function expectSilenceTolerated(others: number, toleratedMs: number, maxHeartbeatsPerSecond?: number): Promise<void> {
    const { clock, leases, controller } = setup(maxHeartbeatsPerSecond);
    await store.create(aNode('n1', { lastHeartbeat: clock.date().toISOString() }));
    for (let start = 0; start < others; start += 1000) {
      const names = Array.from({ length: Math.min(1000, others - start) }, (_, i) => `other-${start + i}`);
      await store.txn(names.map((n) => ({ op: 'create' as const, object: aNode(n, { lastHeartbeat: clock.date().toISOString() }) })));
    }
    const nodes = controller();
    const beatOthers = () => {
      for (let i = 0; i < others; i++) leases.renew(`other-${i}`, clock.now());
    };
    leases.renew('n1', clock.now());
    beatOthers();
    await nodes.check();
    clock.advance(toleratedMs);
    beatOthers();
    await nodes.check();
    expect(await readyOf('n1')).toBe(true);
    clock.advance(1);
    beatOthers();
    await nodes.check();
    expect(await readyOf('n1')).toBe(false);
  }

  it('tolerates the longer silences of slower heartbeats at 10,000 nodes (grace 15 s + 2 × 15 s)', async () => {
    // 9,999 other Nodes: agents are asked for a 20 s interval.
    await expectSilenceTolerated(9_999, GRACE + 30_000);
  }, 30_000);

  it('stretches by the rate the server was given: 201 nodes at 20 a second beat every 11 s (grace 15 s + 2 × 6 s)', async () => {
    await expectSilenceTolerated(200, GRACE + 12_000, 20);
  });
});
