import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GantryNode, Instance } from '../../core/index.js';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite-store.js';
import { newInstanceFor } from '../service/instance-template.js';
import { BIND_CHUNK, PLAN_CHUNK, SchedulingController } from './scheduling-controller.js';
import { ClusterState } from './cluster-state.js';
import { ServiceController } from '../service/service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { GiB, TestClock, aStore, instancesOf, quietLogger, seededRandom } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

async function withService(replicas: number, memory = '128Mi'): Promise<void> {
  const svc = await store.create(aService('web', { replicas, memory }));
  await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(3) }).reconcile(`default/${svc.metadata.name}`);
}

function aScheduler(clock = new TestClock()): SchedulingController {
  return new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 42, now: clock.date });
}

describe('SchedulingController', () => {
  it('binds every pending instance to a ready node, in one txn, never to a node that is not ready', async () => {
    store = aStore();
    await store.create(aNode('n1', { ready: true }));
    await store.create(aNode('down', { ready: false }));
    await withService(4);
    let txns = 0;
    const txn = store.txn.bind(store);
    store.txn = async (ops) => {
      txns++;
      return txn(ops);
    };
    // The bind follows its capacity check in the same tick: on SQLite it commits at once (txnNow).
    const now = vi.spyOn(store, 'txnNow');
    expect(await aScheduler().reconcile()).toBeUndefined();
    expect(txns).toBe(0);
    expect(now).toHaveBeenCalledTimes(1);
    const list = await instancesOf(store);
    expect(list).toHaveLength(4);
    for (const i of list) {
      expect(i.spec.node).toBe('n1');
      expect(i.status?.node).toBe('n1');
      expect(i.status?.phase).toBe('Pending');
    }
  });

  it('leaves what does not fit unbound with a reason, and records one FailedScheduling event per reason', async () => {
    store = aStore();
    await store.create(aNode('n1', { memory: 1 * GiB }));
    await withService(1, '2Gi');
    const scheduler = aScheduler();
    const result = await scheduler.reconcile();
    expect(result).toEqual({ requeueAfterMs: 10_000 });
    const [inst] = await instancesOf(store);
    expect(inst!.spec.node).toBeUndefined();
    expect(inst!.status?.reason).toBe('Unschedulable');
    expect(inst!.status?.message).toContain('insufficient memory');

    await scheduler.reconcile();
    await scheduler.reconcile();
    const events = (await store.list('Event')).items.filter((e) => e.spec.reason === 'FailedScheduling');
    expect(events).toHaveLength(1);
    expect(events[0]!.spec).toMatchObject({ type: 'Warning', count: 1, involved: { kind: 'Instance', name: inst!.metadata.name } });

    // A node big enough arrives: the instance is placed and its reason cleared.
    await store.create(aNode('big', { memory: 4 * GiB }));
    expect(await scheduler.reconcile()).toBeUndefined();
    const [placed] = await instancesOf(store);
    expect(placed!.spec.node).toBe('big');
    expect(placed!.status?.reason).toBeUndefined();
    expect(placed!.status?.message).toBeUndefined();
  });

  it('re-checks a plan against the state at commit time and never overfills a node', async () => {
    store = aStore();
    // Room for exactly two 1Gi instances.
    await store.create(aNode('n1', { memory: 2 * GiB }));
    await withService(2, '1Gi');
    const svc = (await store.get('Service', 'default', 'web'))!;
    // Between plan and commit another writer binds an instance that takes half the node.
    const currentRevision = store.currentRevision.bind(store);
    let raced = false;
    store.currentRevision = async () => {
      if (!raced) {
        raced = true;
        const intruder = newInstanceFor(svc, 'intruder');
        await store.create<Instance>({ ...intruder, spec: { ...intruder.spec, node: 'n1' }, status: { phase: 'Running', ready: true, containers: [] } });
      }
      return currentRevision();
    };
    await aScheduler().reconcile();
    const onNode = (await instancesOf(store)).filter((i) => i.spec.node === 'n1');
    expect(onNode).toHaveLength(2); // the intruder and one of ours
    const pending = (await instancesOf(store)).filter((i) => !i.spec.node);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.status?.reason).toBe('Unschedulable');
  });

  it('does nothing when nothing is pending', async () => {
    store = aStore();
    await store.create(aNode('n1', { ready: true }));
    const rev = await store.currentRevision();
    expect(await aScheduler().reconcile()).toBeUndefined();
    expect(await store.currentRevision()).toBe(rev);
  });

  it(`binds a big batch in txns of at most ${BIND_CHUNK}`, async () => {
    store = aStore();
    await store.create(aNode('n1', { cpu: 1000, memory: 1000 * GiB }));
    await store.create(aService('web', { replicas: 2500 }));
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(3) });
    for (let pass = 0; pass < 3; pass++) await services.reconcile('default/web');
    const txn = vi.spyOn(store, 'txn');
    const now = vi.spyOn(store, 'txnNow');
    expect(await aScheduler().reconcile()).toBeUndefined();
    const binds = [...now.mock.calls, ...txn.mock.calls].map((c) => c[0]).filter((ops) => ops.every((op) => op.op === 'update' && op.object.kind === 'Instance'));
    expect(binds.map((ops) => ops.length)).toEqual(chunksOf(2500, BIND_CHUNK));
    expect((await instancesOf(store)).every((i) => i.spec.node === 'n1')).toBe(true);
  }, 20_000);

  it('reads the cluster once, then follows its changes: later passes list no instances, even with heartbeats between plan and commit', async () => {
    store = aStore();
    await store.create(aNode('n1', { ready: true }));
    await withService(3);
    // A heartbeat lands every time the controller looks at the revision.
    const currentRevision = store.currentRevision.bind(store);
    store.currentRevision = async () => {
      const node = (await store.get('Node', undefined, 'n1'))!;
      await store.update<GantryNode>({ ...node, status: { ...node.status!, lastHeartbeat: new Date().toISOString() } });
      return currentRevision();
    };
    const list = vi.spyOn(store, 'list');
    const scheduler = aScheduler();
    expect(await scheduler.reconcile()).toBeUndefined();
    expect(list.mock.calls.filter(([kind]) => kind === 'Instance')).toHaveLength(1);

    // More work, and room taken by someone else: the next pass sees both without a list.
    const svc = (await store.get('Service', 'default', 'web'))!;
    const intruder = newInstanceFor({ ...svc, metadata: { ...svc.metadata, name: 'other' } }, 'intruder');
    await store.create<Instance>({ ...intruder, spec: { ...intruder.spec, node: 'n1', resources: { cpu: 3700, memory: GiB } } });
    await store.update({ ...svc, spec: { ...svc.spec, replicas: 5 } });
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(4) }).reconcile('default/web');
    list.mockClear();
    expect(await scheduler.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(list.mock.calls.filter(([kind, opts]) => kind === 'Instance' && opts?.field === undefined)).toHaveLength(0);
    // 3 x 100m of ours + 3700m: the node (4 cores) has room for none of the 2 new ones.
    const all = await instancesOf(store);
    expect(all.filter((i) => i.spec.node === 'n1')).toHaveLength(3);
    expect(all.filter((i) => !i.spec.node).map((i) => i.status?.message)).toEqual([expect.stringContaining('insufficient cpu'), expect.stringContaining('insufficient cpu')]);
  });

  it('keepUp() between passes keeps the state inside the store history, so a busy store never forces a full re-read', async () => {
    const clock = new TestClock();
    store = openSqliteStore(':memory:', { now: clock.date, historyLimit: 50 });
    await store.create(aNode('n1', { ready: true }));
    await withService(2);
    const scheduler = aScheduler(clock);
    await scheduler.reconcile();
    const list = vi.spyOn(store, 'list');
    const fullLists = () => list.mock.calls.filter(([kind, opts]) => kind === 'Instance' && opts?.field === undefined).length;
    const heartbeats = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const node = (await store.get('Node', undefined, 'n1'))!;
        await store.update<GantryNode>({ ...node, status: { ...node.status!, lastHeartbeat: new Date(i).toISOString() } });
      }
    };
    // 120 changes, more than the 50 kept: with keepUp every 40 the state never falls behind.
    for (let round = 0; round < 3; round++) {
      await heartbeats(40);
      await scheduler.keepUp();
    }
    await scheduler.reconcile();
    expect(fullLists()).toBe(0);
    // Without it, the same traffic expires the history and the pass must read everything again.
    await heartbeats(120);
    await scheduler.reconcile();
    expect(fullLists()).toBe(1);
  });

  it('reads the whole cluster again once rebuildIntervalMs has passed (the safety net)', async () => {
    store = aStore();
    const clock = new TestClock();
    await store.create(aNode('n1', { ready: true }));
    await withService(2);
    const scheduler = new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1, now: clock.date, rebuildIntervalMs: 60_000 });
    const list = vi.spyOn(store, 'list');
    const fullLists = () => list.mock.calls.filter(([kind, opts]) => kind === 'Instance' && opts?.field === undefined).length;
    await scheduler.reconcile();
    clock.advance(59_000);
    await scheduler.reconcile();
    expect(fullLists()).toBe(1);
    clock.advance(1_000);
    await scheduler.reconcile();
    expect(fullLists()).toBe(2);
  });

  it('places while the safety net reads the cluster afresh, and adopts the fresh state once it is read', async () => {
    store = aStore();
    const clock = new TestClock();
    await store.create(aNode('n1', { ready: true }));
    await withService(2);
    const scheduler = new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1, now: clock.date, rebuildIntervalMs: 60_000 });
    await scheduler.reconcile();
    // The next full Instance list answers only when the test says so: a slow read under load.
    const list = store.list.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let fullReads = 0;
    store.list = (async (kind: Parameters<typeof list>[0], opts?: Parameters<typeof list>[1]) => {
      // The first full list is the scheduler's (the cluster as it is now, answered late); the
      // test's own reads (instancesOf) pass.
      const answer = list(kind, opts);
      if (kind === 'Instance' && opts?.field === undefined && fullReads++ === 0) await held;
      return answer;
    }) as typeof store.list;
    const reads: Promise<ClusterState>[] = [];
    const read = ClusterState.read.bind(ClusterState);
    const spy = vi.spyOn(ClusterState, 'read').mockImplementation((s) => {
      const p = read(s);
      reads.push(p);
      return p;
    });
    clock.advance(60_000);
    await store.update({ ...(await store.get('Service', 'default', 'web'))!, spec: { ...(await store.get('Service', 'default', 'web'))!.spec, replicas: 3 } });
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(5) }).reconcile('default/web');
    // Due for the full read: it starts, and the pass places the new instance without waiting for it.
    await scheduler.reconcile();
    expect(fullReads).toBe(1);
    expect((await instancesOf(store)).filter((i) => i.spec.node === 'n1')).toHaveLength(3);
    // Once read, the fresh state is adopted and brought forward: it knows the third instance is bound.
    expect(reads).toHaveLength(1);
    release();
    const fresh = await reads[0]!;
    // Read before the third instance was bound: bringing it forward from its revision finds the bind.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const bound = (await instancesOf(store)).map((i) => `default/${i.metadata.name}`);
    const listed = fullReads;
    await scheduler.keepUp();
    expect((scheduler as unknown as { state: ClusterState }).state).toBe(fresh);
    expect(fresh.pendingIds()).toEqual([]);
    expect(bound.map((id) => fresh.instance(id)?.spec.node)).toEqual(['n1', 'n1', 'n1']);
    await scheduler.reconcile();
    expect(fullReads).toBe(listed);
    spy.mockRestore();
  });

  it(`plans a big backlog in chunks of ${PLAN_CHUNK}, letting the event loop run between them`, async () => {
    store = aStore();
    await store.create(aNode('n1', { cpu: 1000, memory: 1000 * GiB }));
    await store.create(aService('web', { replicas: 2500 }));
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(3) });
    for (let pass = 0; pass < 3; pass++) await services.reconcile('default/web');
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const txn = vi.spyOn(store, 'txn');
    const now = vi.spyOn(store, 'txnNow');
    try {
      await aScheduler().reconcile();
    } finally {
      running = false;
    }
    const binds = [...now.mock.calls, ...txn.mock.calls].filter(([ops]) => ops.every((op) => op.op === 'update' && op.object.kind === 'Instance'));
    expect(binds).toHaveLength(Math.ceil(2500 / PLAN_CHUNK));
    // Between the three chunks (and their event batches) other callbacks got a turn.
    expect(turns).toBeGreaterThanOrEqual(2);
  }, 20_000);
});

/** Sizes of the chunks `total` items make in chunks of `size`: [size, size, ..., rest]. */
function chunksOf(total: number, size: number): number[] {
  return Array.from({ length: Math.ceil(total / size) }, (_, i) => Math.min(size, total - i * size));
}

describe('SchedulingController: isolation', () => {
  it('counts whole cores for cpuMode cpuset against the node\'s allocatable cores', async () => {
    store = aStore();
    await store.create(aNode('n1', { cpu: 4, status: { cpuset: { cpus: '0-3', reserved: '0', allocatable: 3 } } }));
    await store.create(aNode('n2', { cpu: 4 })); // no cpuset reported: nothing may be pinned there
    const svc = await store.create(aService('pinned', { replicas: 2, containers: [{ name: 'main', image: 'busybox:1.36', resources: { cpu: 2, cpuMode: 'cpuset' } }] }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(3) }).reconcile(`default/${svc.metadata.name}`);
    await aScheduler().reconcile();
    const list = await instancesOf(store, 'pinned');
    expect(list.map((i) => i.spec.resources.cores)).toEqual([2, 2]);
    const bound = list.filter((i) => i.spec.node !== undefined);
    expect(bound.map((i) => i.spec.node)).toEqual(['n1']); // 2 + 2 > 3 cores
    const waiting = list.find((i) => i.spec.node === undefined);
    expect(waiting?.status?.message).toContain('insufficient free cores');
  });

  it('gives runAsUser auto instances distinct uids on one node, from the range, kept once given', async () => {
    store = aStore();
    await store.create(aNode('n1', { cpu: 8 }));
    const auto = { name: 'main', image: 'busybox:1.36', securityContext: { runAsUser: 'auto' as const } };
    const svc = await store.create(aService('users', { replicas: 3, containers: [auto] }));
    await store.create(aService('plain', { replicas: 1 }));
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: seededRandom(3) });
    await services.reconcile(`default/${svc.metadata.name}`);
    await services.reconcile('default/plain');
    const scheduler = new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 42, autoUidRange: { first: 5000, last: 5003 } });
    await scheduler.reconcile();
    const list = [...(await instancesOf(store, 'users')), ...(await instancesOf(store, 'plain'))];
    const uids = list.filter((i) => i.spec.service === 'users').map((i) => i.spec.autoUid);
    expect(new Set(uids).size).toBe(3);
    for (const uid of uids) expect(uid).toBeGreaterThanOrEqual(5000);
    expect(list.find((i) => i.spec.service === 'plain')?.spec.autoUid).toBeUndefined();

    // One uid left in the range: a fourth instance gets it, a fifth waits with a reason.
    const current = (await store.get('Service', 'default', 'users'))!;
    await store.update({ ...current, spec: { ...current.spec, replicas: 5 } });
    await services.reconcile('default/users');
    await scheduler.reconcile();
    const after = await instancesOf(store, 'users');
    expect(after.filter((i) => i.spec.autoUid !== undefined)).toHaveLength(4);
    expect(after.find((i) => i.spec.autoUid === undefined)?.status?.message).toContain('no free uid on node n1 in the auto uid range 5000-5003');
  });
});
