import { afterEach, describe, expect, it } from 'vitest';
import type { GantryNode } from '../../core/index.js';
import { aNode } from '../../core/test-builders.js';
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
