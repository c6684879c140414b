import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_VERSION, getCondition, jobSpecDefaults, type GantryNode, type Job, type Service } from '../core/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { startControllers } from './index.js';
import { SchedulingController } from './scheduling/scheduling-controller.js';
import { ServiceController } from './service/service-controller.js';
import { aNode, aService } from '../core/test-builders.js';
import { GiB, aStore, instancesOf, quietLogger, setInstanceStatus } from './shared/test-builders.js';
import { EventRecorder } from '../runtime/event-recorder.js';
import { jobInstances } from './job/job-controller.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('startControllers', () => {
  it('drives a service from apply to bound instances, follows scaling, and stops on abort', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    await store.create(aNode('n1', { lastHeartbeat: new Date().toISOString() }));
    await store.create(aService('web', { replicas: 3 }));

    await vi.waitFor(async () => {
      const list = await instancesOf(store);
      expect(list).toHaveLength(3);
      expect(list.every((i) => i.spec.node === 'n1')).toBe(true);
    });
    await vi.waitFor(async () => {
      const status = (await store.get('Service', 'default', 'web'))!.status;
      expect(status?.replicas).toBe(3);
    });

    const svc = (await store.get('Service', 'default', 'web'))!;
    await store.update<Service>({ ...svc, spec: { ...svc.spec, replicas: 1 } });
    // Scale-down stops gracefully: two get spec.stop, and go once their agent says they stopped.
    const stopping = await vi.waitFor(async () => {
      const list = await instancesOf(store);
      expect(list.filter((i) => !i.spec.stop)).toHaveLength(1);
      expect(list.filter((i) => i.spec.stop?.reason === 'scale down')).toHaveLength(2);
      return list.filter((i) => i.spec.stop);
    });
    for (const i of stopping) await setInstanceStatus(store, i, { phase: 'Succeeded', ready: false, reason: 'Stopped' });
    await vi.waitFor(async () => expect(await instancesOf(store)).toHaveLength(1));

    ac.abort();
    await done;
    // Nothing runs after done: a new service gets no instances.
    await store.create(aService('late', { replicas: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(await instancesOf(store, 'late')).toHaveLength(0);
  });

  it('coalesces a burst of 200 service applies into a few scheduling passes that each take everything pending', async () => {
    store = aStore();
    const passes = vi.spyOn(SchedulingController.prototype, 'reconcile');
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    try {
      await store.create(aNode('n1', { cpu: 1000, memory: 1000 * GiB, lastHeartbeat: new Date().toISOString() }));
      await vi.waitFor(() => expect(passes).toHaveBeenCalled());
      const before = passes.mock.calls.length;
      await store.txn(Array.from({ length: 200 }, (_, i) => ({ op: 'create' as const, object: aService(`svc-${i}`, { replicas: 5 }) })));
      await vi.waitFor(
        async () => {
          const all = (await store.list('Instance')).items;
          expect(all).toHaveLength(1000);
          expect(all.every((i) => i.spec.node === 'n1')).toBe(true);
        },
        { timeout: 10_000 },
      );
      // 200 reconciles each created instances (1,000 scheduling triggers): ten times fewer passes at
      // most. How many exactly depends on how the two controllers interleave (51 seen on a loaded
      // machine, ~20 on a quiet one); a pass per trigger would make about 1,000.
      expect(passes.mock.calls.length - before).toBeLessThan(100);
    } finally {
      passes.mockRestore();
      ac.abort();
      await done;
    }
  });

  it('reconciles a service once for a burst of its instances\' status reports, not once per report', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    const reconciles = vi.spyOn(ServiceController.prototype, 'reconcile');
    try {
      await store.create(aNode('n1', { cpu: 100, memory: 100 * GiB, lastHeartbeat: new Date().toISOString() }));
      await store.create(aService('web', { replicas: 40 }));
      await vi.waitFor(async () => expect((await instancesOf(store)).filter((i) => i.spec.node === 'n1')).toHaveLength(40));
      await new Promise((r) => setTimeout(r, 400));
      reconciles.mockClear();
      // 40 agent reports within a few milliseconds, as when a node starts its batch.
      for (const i of await instancesOf(store)) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
      await vi.waitFor(async () => expect((await store.get('Service', 'default', 'web'))!.status?.readyReplicas).toBe(40));
      await new Promise((r) => setTimeout(r, 400));
      expect(reconciles.mock.calls.length).toBeGreaterThan(0);
      expect(reconciles.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      reconciles.mockRestore();
      ac.abort();
      await done;
    }
  });

  it('rolls a service to a new version when a Config its files reference changes, and only that service', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { resyncIntervalMs: 60_000 } });
    try {
      await store.create({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: 'conf', namespace: 'default' }, spec: { data: { app: 'a=1' } } });
      const withFile = aService('uses', { replicas: 1 });
      await store.create({ ...withFile, spec: { ...withFile.spec, configFiles: [{ path: '/etc/app.conf', configRef: { name: 'conf', key: 'app' } }] } });
      await store.create(aService('other', { replicas: 1 }));
      const versionOf = async (name: string) => (await store.get('Service', 'default', name))?.status?.version;
      await vi.waitFor(async () => {
        expect(await versionOf('uses')).toBe(1);
        expect(await versionOf('other')).toBe(1);
      });
      const conf = (await store.get('Config', 'default', 'conf'))!;
      await store.update({ ...conf, spec: { data: { app: 'a=2' } } });
      await vi.waitFor(async () => expect(await versionOf('uses')).toBe(2));
      expect((await store.get('ServiceVersion', 'default', 'uses-v2'))?.spec.cause).toBe('config changed');
      expect(await versionOf('other')).toBe(1);
    } finally {
      ac.abort();
      await done;
    }
  });

  it('marks a node that never heartbeats not ready after the grace period', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { nodeGracePeriodMs: 100 } });
    await store.create(aNode('quiet', { lastHeartbeat: new Date().toISOString() }));
    await vi.waitFor(
      async () => {
        const node: GantryNode | undefined = await store.get('Node', undefined, 'quiet');
        expect(getCondition(node?.status?.conditions, 'Ready')?.reason).toBe('NodeLost');
      },
      { timeout: 3000 },
    );
    ac.abort();
    await done;
  });

  it('does not start a scheduling pass for a heartbeat, only for a change the scheduler reads', async () => {
    store = aStore();
    const passes = vi.spyOn(SchedulingController.prototype, 'reconcile');
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    try {
      await store.create(aNode('n1', { lastHeartbeat: new Date().toISOString() }));
      await vi.waitFor(() => expect(passes).toHaveBeenCalled());
      await new Promise((r) => setTimeout(r, 50));
      const before = passes.mock.calls.length;
      for (let beat = 0; beat < 10; beat++) {
        const node: GantryNode = (await store.get('Node', undefined, 'n1'))!;
        await store.update<GantryNode>({ ...node, status: { ...node.status!, lastHeartbeat: new Date().toISOString() } });
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(passes.mock.calls.length).toBe(before);

      // Cordoning the node is a change the scheduler reads.
      const node: GantryNode = (await store.get('Node', undefined, 'n1'))!;
      await store.update<GantryNode>({ ...node, spec: { ...node.spec, unschedulable: true } });
      await vi.waitFor(() => expect(passes.mock.calls.length).toBe(before + 1));
    } finally {
      passes.mockRestore();
      ac.abort();
      await done;
    }
  });
  it('reaches every controller through its own triggers, for objects stored before it started too', async () => {
    store = aStore();
    // Stored before the manager starts: the informers' first list must reach every setup's handlers.
    await store.create(aNode('a', { lastHeartbeat: new Date().toISOString() }));
    await store.create(aService('web', { replicas: 2 }));
    await store.create<Job>({ apiVersion: API_VERSION, kind: 'Job', metadata: { name: 'batch', namespace: 'default' }, spec: jobSpecDefaults({ containers: [{ name: 'main', image: 'x' }] }) });
    const ac = new AbortController();
    const { done } = startControllers({ events: new EventRecorder(store), store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    try {
      // service + scheduling
      const placed = await vi.waitFor(async () => {
        const list = await instancesOf(store);
        expect(list.filter((i) => i.spec.node === 'a')).toHaveLength(2);
        return list;
      });
      // job: its run is created (a Job's runs are not the service controller's)
      await vi.waitFor(async () => expect(await jobInstances(store, 'default', 'batch')).toHaveLength(1));
      // crash loop: an instance failing 5 times in a row on its node is evicted
      const [first, second] = placed;
      await setInstanceStatus(store, first!, { phase: 'Running', ready: false, containers: [{ name: 'main', state: 'waiting', restartCount: 5, recentFailures: 5, hostPorts: {} }] });
      await vi.waitFor(async () => expect((await store.get('Instance', 'default', first!.metadata.name))?.spec.evict?.reason).toBe('CrashLoop'));
      // drain: a draining node's live instances are evicted
      const node: GantryNode = (await store.get('Node', undefined, 'a'))!;
      await store.update<GantryNode>({ ...node, spec: { ...node.spec, unschedulable: true, draining: true } });
      await vi.waitFor(async () => expect((await store.get('Instance', 'default', second!.metadata.name))?.spec.evict?.reason).toBe('NodeDrain'));
    } finally {
      ac.abort();
      await done;
    }
  });
});
