// The node controller's guards against blaming the nodes for the server's own trouble: a stalled
// tick restarts the grace period, and most of the cluster falling silent at once marks the nodes
// not ready without replacing their instances.
import { afterEach, describe, expect, it } from 'vitest';
import { type GantryNode, type Instance } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import type { NewObject } from '../../store/store.js';
import { NodeController } from './node-controller.js';
import { anInstance, aNode } from '../../core/test-builders.js';
import { TestClock, aStore, quietLogger } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const GRACE = 15_000;

/** An instance bound to `node` and running there. */
function aRunningInstance(name: string, node: string): NewObject<Instance> {
  return anInstance(name, { node, status: { phase: 'Running', ready: true, containers: [] } });
}

async function heartbeat(name: string, clock: TestClock): Promise<void> {
  const node = (await store.get('Node', undefined, name))!;
  await store.update<GantryNode>({ ...node, status: { ...node.status!, ready: true, lastHeartbeat: clock.date().toISOString() } });
}

async function readyOf(name: string): Promise<boolean | undefined> {
  return (await store.get('Node', undefined, name))?.status?.ready;
}

async function phasesOn(node: string): Promise<(string | undefined)[]> {
  return (await store.list('Instance')).items.filter((i) => i.spec.node === node).map((i) => i.status?.phase);
}

/** `n0`..`n<count-1>`, heartbeating now, with `perNode` running instances each. */
async function aCluster(count: number, perNode: number, clock: TestClock): Promise<void> {
  const t0 = clock.date().toISOString();
  await store.txn([
    ...Array.from({ length: count }, (_, n) => ({ op: 'create' as const, object: aNode(`n${n}`, { lastHeartbeat: t0 }) })),
    ...Array.from({ length: count * perNode }, (_, i) => ({ op: 'create' as const, object: aRunningInstance(`web-${i}`, `n${i % count}`) })),
  ]);
}

describe('NodeController stall guard', () => {
  it('restarts the grace period when its own tick ran late, then marks a node that stays silent', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, stallThresholdMs: 5000 });
    // Ticking every second for 10 s; n1 heartbeats, n0 has gone quiet.
    for (let s = 0; s < 10; s++) {
      await nodes.check();
      clock.advance(1000);
      await heartbeat('n1', clock);
    }
    // The server stalls for 20 s: no tick, no heartbeat gets in. n0 has been silent 30 s.
    clock.advance(20_000);
    await nodes.check();
    expect(await readyOf('n0')).toBe(true);
    expect(await readyOf('n1')).toBe(true);

    // Ticks resume: n1's heartbeats get in again, n0 stays silent and is marked a grace period later.
    for (let s = 0; s < 14; s++) {
      clock.advance(1000);
      await heartbeat('n1', clock);
      await nodes.check();
    }
    expect(await readyOf('n0')).toBe(true);
    clock.advance(2000);
    await heartbeat('n1', clock);
    await nodes.check();
    expect(await readyOf('n0')).toBe(false);
    expect(await phasesOn('n0')).toEqual(['Lost']);
    expect(await readyOf('n1')).toBe(true);
  });

  it('without a stall, marks the silent node once the grace period is over', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, stallThresholdMs: 5000 });
    for (let s = 0; s < 16; s++) {
      await nodes.check();
      clock.advance(1000);
      await heartbeat('n1', clock);
    }
    await nodes.check();
    expect(await readyOf('n0')).toBe(false);
    expect(await readyOf('n1')).toBe(true);
  });
});

describe('NodeController lag credit', () => {
  it('does not count the time its own ticks ran late as a node\'s silence', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    const opts = { events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, stallThresholdMs: 5000 };
    const credited = new NodeController({ ...opts, checkIntervalMs: 1000 });
    // A server that keeps up with ticks 1.5 s late each (under the stall threshold): n1
    // heartbeats (its heartbeats get in as the ticks do), n0 has gone quiet.
    const tickLate = async (): Promise<void> => {
      clock.advance(2500);
      await heartbeat('n1', clock);
      await credited.check();
    };
    await credited.check();
    // 17.5 s of wall clock, 10.5 s of it the server's lag: n0 is silent for 7 s of server time (grace 15 s).
    for (let i = 0; i < 7; i++) await tickLate();
    expect(await readyOf('n0')).toBe(true);
    expect(await phasesOn('n0')).toEqual(['Running']);
    // 10 more ticks: 42.5 s of wall clock, 17 s of server time: n0 is marked, n1 never was.
    for (let i = 0; i < 10; i++) await tickLate();
    expect(await readyOf('n0')).toBe(false);
    expect(await readyOf('n1')).toBe(true);
  });

  it('does not count a check that waited for the store as the server\'s lag', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    // Every check's read of the nodes takes 2 s (a store busy with other writes); the manager
    // then sleeps its 1 s. The loop was never late: n0's silence counts in full.
    const slow = new Proxy(store, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'list' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (...args: unknown[]) => {
          clock.advance(2000);
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
    const nodes = new NodeController({ events: new EventRecorder(store), store: slow, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, stallThresholdMs: 5000, checkIntervalMs: 1000 });
    const t0 = clock.now();
    while (clock.now() - t0 < GRACE + 4000) {
      await nodes.check();
      clock.advance(1000);
      await heartbeat('n1', clock);
    }
    expect(await readyOf('n0')).toBe(false);
    expect(await readyOf('n1')).toBe(true);
  });

  it('without checkIntervalMs counts the wall clock, as before', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now, stallThresholdMs: 5000 });
    await nodes.check();
    for (let i = 0; i < 7; i++) {
      clock.advance(2500);
      await heartbeat('n1', clock);
      await nodes.check();
    }
    expect(await readyOf('n0')).toBe(false);
  });
});

describe('NodeController disruption guard', () => {
  it('when most nodes fall silent at once, marks them not ready but leaves their instances; resumes once fewer are silent', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(10, 2, clock);
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();
    clock.advance(GRACE + 1);
    for (const n of ['n6', 'n7', 'n8', 'n9']) await heartbeat(n, clock); // 6 of 10 silent: 60%
    await nodes.check();
    const silent = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
    for (const n of silent) {
      expect(await readyOf(n)).toBe(false);
      expect(await phasesOn(n)).toEqual(['Running', 'Running']);
    }
    const warnings = (await store.list('Event')).items.filter((e) => e.spec.reason === 'NodesSilentAtOnce');
    expect(warnings.map((e) => e.spec.involved.name).sort()).toEqual(silent);
    expect(warnings.every((e) => e.spec.type === 'Warning' && e.spec.message.startsWith('6 of 10 nodes silent at once: not replacing their instances'))).toBe(true);
    expect((await store.list('Event')).items.filter((e) => e.spec.reason === 'InstanceLost')).toHaveLength(0);

    // Still disrupted a pass later: no instance lost, no second warning.
    clock.advance(1000);
    for (const n of ['n6', 'n7', 'n8', 'n9']) await heartbeat(n, clock);
    await nodes.check();
    expect(await phasesOn('n0')).toEqual(['Running', 'Running']);
    const again = (await store.list('Event')).items.filter((e) => e.spec.reason === 'NodesSilentAtOnce');
    expect(again.every((e) => e.spec.count === 1)).toBe(true);

    // Two come back: 4 of 10 silent is an ordinary failure, and their instances are replaced.
    clock.advance(1000);
    for (const n of ['n0', 'n1', 'n6', 'n7', 'n8', 'n9']) await heartbeat(n, clock);
    await nodes.check();
    for (const n of ['n0', 'n1']) {
      expect(await readyOf(n)).toBe(true);
      expect(await phasesOn(n)).toEqual(['Running', 'Running']);
    }
    for (const n of ['n2', 'n3', 'n4', 'n5']) {
      expect(await readyOf(n)).toBe(false);
      expect(await phasesOn(n)).toEqual(['Lost', 'Lost']);
    }
  });

  it('treats half the cluster, or every node of a small one, as ordinary failures', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await aCluster(4, 1, clock);
    const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    await nodes.check();
    clock.advance(GRACE + 1);
    for (const n of ['n2', 'n3']) await heartbeat(n, clock); // 2 of 4: not more than 55%, and only 2
    await nodes.check();
    expect(await phasesOn('n0')).toEqual(['Lost']);
    expect(await phasesOn('n1')).toEqual(['Lost']);

    await store.close();
    store = aStore(clock);
    await aCluster(2, 1, clock);
    const small = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
    clock.advance(GRACE + 1);
    await small.check(); // both silent, but 2 nodes are no "most of a cluster"
    expect(await phasesOn('n0')).toEqual(['Lost']);
    expect(await phasesOn('n1')).toEqual(['Lost']);
  });
});
