import { afterEach, describe, expect, it } from 'vitest';
import type { GantryNode, Instance } from '../../core/index.js';
import { aNode, anInstance } from '../../core/test-builders.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { aStore } from '../shared/test-builders.js';
import { ClusterState } from './cluster-state.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('ClusterState.catchUp', () => {
  it('stops just past the revision it set out for, though writes keep coming', async () => {
    store = aStore();
    await store.create(aNode('n1', { ready: true }));
    const state = await ClusterState.read(store);
    const relabel = async (i: number): Promise<void> => {
      const node = (await store.get('Node', undefined, 'n1'))!;
      await store.update<GantryNode>({ ...node, metadata: { ...node.metadata, labels: { n: String(i) } } });
    };
    // Behind by a few revisions, so it has somewhere to go.
    for (let i = 0; i < 5; i++) await relabel(i);
    // A writer that never waits for anything but its own writes (microtasks only): controllers
    // and reports writing back to back while a pass catches up.
    let writes = 0;
    const writer = (async () => {
      for (let i = 5; i < 2000; i++) {
        await relabel(i);
        writes++;
      }
    })();
    const caughtUp = await state.catchUp(store);
    const seen = writes;
    await writer;
    expect(caughtUp).toBe(state);
    // It returned long before the writer was done (it used to chase the stream to its end).
    expect(seen).toBeLessThan(100);
    expect(caughtUp.revision).toBeLessThan(await store.currentRevision());
    // And a later catch-up brings it the rest of the way.
    await caughtUp.catchUp(store);
    expect(caughtUp.revision).toBe(await store.currentRevision());
    expect(caughtUp.nodes()[0]!.metadata.labels?.n).toBe('1999');
  });
});

describe('ClusterState.snapshots', () => {
  it('keeps the snapshots of nodes whose scheduling view did not change, and replaces only what did', async () => {
    store = aStore();
    for (const n of ['n1', 'n2', 'n3']) await store.create(aNode(n, { ready: true }));
    const bound = await store.create<Instance>(anInstance('web-0', { node: 'n1', status: { phase: 'Starting', ready: false, containers: [] } }));
    let state = await ClusterState.read(store);
    const before = [...state.snapshots()];
    expect(before.map((s) => s.name)).toEqual(['n1', 'n2', 'n3']);

    // A status report (same spec) and a heartbeat stamp: every snapshot is the very same object.
    await store.update<Instance>({ ...bound, status: { phase: 'Running', ready: true, containers: [] } });
    const n2 = (await store.get('Node', undefined, 'n2'))!;
    await store.update<GantryNode>({ ...n2, status: { ...n2.status!, lastHeartbeat: new Date(Date.now() + 1000).toISOString() } });
    state = await state.catchUp(store);
    expect(state.snapshots()).toEqual(before);
    state.snapshots().forEach((s, i) => expect(s).toBe(before[i]));

    // A bind to n3 and a relabel of n2: their snapshots are new, n1's is kept, the order stays.
    await store.create(anInstance('web-1', { node: 'n3' }));
    const n2now = (await store.get('Node', undefined, 'n2'))!;
    await store.update<GantryNode>({ ...n2now, metadata: { ...n2now.metadata, labels: { rack: 'r1' } } });
    state = await state.catchUp(store);
    const after = state.snapshots();
    expect(after.map((s) => s.name)).toEqual(['n1', 'n2', 'n3']);
    expect(after[0]).toBe(before[0]);
    expect(after[1]!.labels).toEqual({ rack: 'r1' });
    expect(after[2]!.serviceCounts.size).toBe(1);
    expect(after[2]!.used.cpu).toBeGreaterThan(0);

    // A node that comes and one that goes: the list follows.
    await store.create(aNode('n4', { ready: true }));
    await store.delete('Node', undefined, 'n1');
    state = await state.catchUp(store);
    expect(state.snapshots().map((s) => s.name)).toEqual(['n2', 'n3', 'n4']);
  });
});
