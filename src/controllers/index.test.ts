import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCondition, type GantryNode, type Service } from '../core/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { startControllers } from './index.js';
import { SchedulingController } from './scheduling-controller.js';
import { aNode, aService, aStore, instancesOf, quietLogger } from './test-builders.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('startControllers', () => {
  it('drives a service from apply to bound instances, follows scaling, and stops on abort', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    await store.create(aNode({ name: 'n1', lastHeartbeat: new Date().toISOString() }));
    await store.create(aService({ replicas: 3 }));

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
    await vi.waitFor(async () => expect(await instancesOf(store)).toHaveLength(1));

    ac.abort();
    await done;
    // Nothing runs after done: a new service gets no instances.
    await store.create(aService({ name: 'late', replicas: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(await instancesOf(store, 'late')).toHaveLength(0);
  });

  it('marks a node that never heartbeats not ready after the grace period', async () => {
    store = aStore();
    const ac = new AbortController();
    const { done } = startControllers({ store, logger: quietLogger(), signal: ac.signal, options: { nodeGracePeriodMs: 100 } });
    await store.create(aNode({ name: 'quiet', lastHeartbeat: new Date().toISOString() }));
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
    const { done } = startControllers({ store, logger: quietLogger(), signal: ac.signal, options: { seed: 1, resyncIntervalMs: 60_000 } });
    try {
      await store.create(aNode({ name: 'n1', lastHeartbeat: new Date().toISOString() }));
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
});
