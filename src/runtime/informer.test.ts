import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Service } from '../core/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { Informer } from './informer.js';
import { aService } from '../core/test-builders.js';
import { quietLogger } from '../controllers/shared/test-builders.js';

let store: SqliteStore;
let ac: AbortController;
beforeEach(() => {
  ac = new AbortController();
});
afterEach(async () => {
  ac.abort();
  await store.close();
});

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    handlers: {
      onAdd: (s: Service) => seen.push(`add ${s.metadata.name}`),
      onUpdate: (_o: Service, s: Service) => seen.push(`update ${s.metadata.name}`),
      onDelete: (s: Service) => seen.push(`delete ${s.metadata.name}`),
    },
  };
}

describe('Informer', () => {
  it('lists, then follows the watch', async () => {
    store = openSqliteStore(':memory:');
    await store.create(aService('a'));
    const inf = new Informer({ source: store, kind: 'Service', logger: quietLogger(), resyncIntervalMs: 0 });
    const r = recorder();
    inf.addHandlers(r.handlers);
    const run = inf.run(ac.signal);
    await inf.synced;
    expect(r.seen).toEqual(['add a']);
    const b = await store.create<Service>(aService('b'));
    await store.update<Service>({ ...b, spec: { ...b.spec, replicas: 5 } });
    await store.delete('Service', 'default', 'a');
    await vi.waitFor(() => expect(r.seen).toEqual(['add a', 'add b', 'update b', 'delete a']));
    expect(inf.list().map((s) => s.metadata.name)).toEqual(['b']);
    expect(inf.get('default', 'b')?.spec.replicas).toBe(5);
    ac.abort();
    await run;
  });

  it('asks its source to leave out status-only changes when told to (omitStatusChanges), and not otherwise', async () => {
    store = openSqliteStore(':memory:');
    const watch = vi.spyOn(store, 'watch');
    const plain = new Informer({ source: store, kind: 'Service', logger: quietLogger() });
    const spec = new Informer({ source: store, kind: 'Service', logger: quietLogger(), omitStatusChanges: true });
    const runs = [plain.run(ac.signal), spec.run(ac.signal)];
    await Promise.all([plain.synced, spec.synced]);
    await vi.waitFor(() => expect(watch).toHaveBeenCalledTimes(2));
    const asked = watch.mock.calls.map(([opts]) => (opts as { omitStatusChanges?: boolean }).omitStatusChanges ?? false).sort();
    expect(asked).toEqual([false, true]);
    ac.abort();
    await Promise.all(runs);
  });

  it('relists when the watch falls too far behind (EXPIRED), noticing what was deleted meanwhile', async () => {
    store = openSqliteStore(':memory:', { maxWatchBuffer: 2, historyLimit: 2 });
    await store.create(aService('gone'));
    const inf = new Informer({ source: store, kind: 'Service', logger: quietLogger(), resyncIntervalMs: 0, retryDelayMs: 10 });
    const r = recorder();
    inf.addHandlers(r.handlers);
    const lists = vi.spyOn(store, 'list');
    const run = inf.run(ac.signal);
    await inf.synced;
    // Many writes at once: more than the watch may buffer.
    await store.txn([
      { op: 'delete', kind: 'Service', namespace: 'default', name: 'gone' },
      ...['s1', 's2', 's3', 's4', 's5'].map((name) => ({ op: 'create' as const, object: aService(name) })),
    ]);
    await vi.waitFor(() => expect(inf.list().map((s) => s.metadata.name).sort()).toEqual(['s1', 's2', 's3', 's4', 's5']));
    expect(r.seen).toContain('delete gone');
    expect(lists.mock.calls.length).toBeGreaterThanOrEqual(2);
    ac.abort();
    await run;
  });

  it('resync calls onUpdate for every cached object', async () => {
    store = openSqliteStore(':memory:');
    await store.create(aService('a'));
    await store.create(aService('b'));
    const inf = new Informer({ source: store, kind: 'Service', logger: quietLogger(), resyncIntervalMs: 20 });
    const r = recorder();
    inf.addHandlers(r.handlers);
    const run = inf.run(ac.signal);
    await vi.waitFor(() => {
      expect(r.seen.filter((s) => s === 'update a').length).toBeGreaterThanOrEqual(2);
      expect(r.seen.filter((s) => s === 'update b').length).toBeGreaterThanOrEqual(2);
    });
    ac.abort();
    await run;
  });

  it('resyncs a big cache in slices: the event loop gets turns during the pass', async () => {
    store = openSqliteStore(':memory:');
    await store.txn(Array.from({ length: 200 }, (_, i) => ({ op: 'create' as const, object: aService(`s${i}`) })));
    const inf = new Informer({ source: store, kind: 'Service', logger: quietLogger(), resyncIntervalMs: 30 });
    let updates = 0;
    /** Resync updates seen each time the loop got a turn while a resync was under way. */
    const betweenSlices: number[] = [];
    let ticking = false;
    const tick = (): void => {
      if (updates % 200 !== 0) betweenSlices.push(updates % 200);
      if (ticking) setImmediate(tick);
    };
    inf.addHandlers({
      onUpdate: () => {
        if (!ticking) {
          ticking = true;
          setImmediate(tick);
        }
        updates++;
        // 0.2 ms per object: 40 ms for the whole cache, several 5 ms slices.
        const until = performance.now() + 0.2;
        while (performance.now() < until) {
          // work a handler might do
        }
      },
    });
    const run = inf.run(ac.signal);
    await vi.waitFor(() => expect(updates).toBeGreaterThanOrEqual(200));
    ticking = false;
    ac.abort();
    await run;
    expect(betweenSlices.length).toBeGreaterThan(0);
  });
});
