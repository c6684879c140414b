// Watch behaviour of the sqlite store: replay, live, resume, expiry, slow consumers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../core/index.js';
import type { Service } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { WatchEvent } from './store.js';
import { aNamespace, range, readUntil, revisionsOf, take, withReplicas } from './test-helpers.js';
import { aService } from '../core/test-builders.js';

describe('SqliteStore.watch', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('replays history then follows live writes, with no gap and no duplicate across a concurrent write', async () => {
    let svc = await store.create<Service>(aService('web'));
    const writer = (async () => {
      for (let i = 0; i < 200; i++) {
        svc = await store.update(withReplicas(svc, i));
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    // Joins while the writer is mid-way: part of what it reads is replay, the rest live.
    await new Promise((r) => setImmediate(r));
    const joinedAt = await store.currentRevision();
    expect(joinedAt).toBeGreaterThan(1);
    expect(joinedAt).toBeLessThan(201);
    const watch = store.watch({ kind: 'Service', fromRevision: 0 }, AbortSignal.timeout(10_000));
    const reading = readUntil(watch, 201);
    await writer;
    const events = await reading;
    expect(revisionsOf(events)).toEqual(range(1, 201));
    expect(events[0]).toMatchObject({ type: 'ADDED' });
    expect(events.slice(1).every((e) => e.type === 'MODIFIED')).toBe(true);
    expect((events[200]!.object as Service).spec.replicas).toBe(199);
  });

  it('marks a change of status alone statusOnly, and no other change', async () => {
    const watch = store.watch({ kind: 'Service', fromRevision: 0 }, AbortSignal.timeout(10_000));
    const svc = await store.create<Service>(aService('web'));
    const ready = await store.update<Service>({ ...svc, status: { readyReplicas: 1, replicas: 1, conditions: [] } });
    // A client's whole object, parsed afresh: the spec is equal, so the store shares it (txn-planner.ts).
    const resent = await store.update<Service>(JSON.parse(JSON.stringify({ ...ready, status: { readyReplicas: 2, replicas: 2, conditions: [] } })) as Service);
    const scaled = await store.update(withReplicas(resent, 3));
    const labelled = await store.update<Service>({ ...scaled, metadata: { ...scaled.metadata, labels: { team: 'a' } }, status: { readyReplicas: 3, replicas: 3, conditions: [] } });
    const same = await store.update<Service>({ ...labelled });
    const events = await readUntil(watch, same.metadata.revision);
    expect(events.map((e) => [e.type, e.statusOnly ?? false])).toEqual([
      ['ADDED', false],
      ['MODIFIED', true],
      ['MODIFIED', true],
      ['MODIFIED', false], // the spec changed
      ['MODIFIED', false], // the labels changed with the status
      ['MODIFIED', false], // nothing changed but the revision: not a status change either
    ]);
  });

  it('starts at the current revision when no fromRevision is given', async () => {
    await store.create(aService('old'));
    const watch = store.watch({}, AbortSignal.timeout(5_000));
    await store.create(aService('new'));
    const [e] = await take(watch, 1);
    expect(e).toMatchObject({ type: 'ADDED', revision: 2, object: { metadata: { name: 'new' } } });
  });

  it('filters by kind and namespace', async () => {
    const watch = store.watch({ kind: 'Service', namespace: 'b' }, AbortSignal.timeout(5_000));
    await store.create(aService('x', { namespace: 'a' }));
    await store.create(aNamespace('b'));
    await store.create(aService('y', { namespace: 'b' }));
    const [e] = await take(watch, 1);
    expect(e).toMatchObject({ revision: 3, object: { kind: 'Service', metadata: { name: 'y' } } });
  });

  it('delivers DELETED with the last stored object at the delete’s revision', async () => {
    const watch = store.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000));
    const created = await store.create(aService('web'));
    await store.delete('Service', 'default', 'web');
    const events = await take(watch, 2);
    expect(events[1]).toMatchObject({ type: 'DELETED', revision: 2, object: { metadata: { name: 'web', uid: created.metadata.uid, revision: 2 } } });
  });

  it('resumes from the last revision seen after a disconnect, missing nothing', async () => {
    for (let i = 0; i < 5; i++) await store.create(aService(`s${i}`));
    const first = new AbortController();
    const seen = await take(store.watch({ fromRevision: 0 }, first.signal), 3);
    first.abort(); // the "disconnect"
    for (let i = 5; i < 8; i++) await store.create(aService(`s${i}`));
    const last = seen[seen.length - 1]!.revision;
    const resumed = await readUntil(store.watch({ fromRevision: last }, AbortSignal.timeout(5_000)), 8);
    expect([...revisionsOf(seen), ...revisionsOf(resumed)]).toEqual(range(1, 8));
  });

  it('answers EXPIRED once the history a watch needs is trimmed', async () => {
    const small = openSqliteStore(':memory:', { historyLimit: 5 });
    try {
      for (let i = 0; i < 10; i++) await small.create(aService(`s${i}`)); // keeps revisions 6..10
      const err = await take(small.watch({ fromRevision: 4 }, AbortSignal.timeout(5_000)), 1).catch((e: unknown) => e);
      expect(isAppError(err, 'EXPIRED')).toBe(true);
      expect((err as Error).message).toMatch(/list again and watch from the list's revision/);
      // fromRevision 5 needs 6.. only: still served.
      const events = await readUntil(small.watch({ fromRevision: 5 }, AbortSignal.timeout(5_000)), 10);
      expect(revisionsOf(events)).toEqual(range(6, 10));
    } finally {
      await small.close();
    }
  });

  it('ends without error when its signal aborts, and forgets the watcher', async () => {
    const ac = new AbortController();
    const it = store.watch({}, ac.signal)[Symbol.asyncIterator]();
    expect(store.watchCount).toBe(1);
    const pending = it.next();
    ac.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(store.watchCount).toBe(0);
    // An already-aborted signal gives an empty watch.
    expect(await take(store.watch({}, ac.signal), 1)).toEqual([]);
  });

  it('does not let a slow watcher block writers: past its buffer bound it ends with EXPIRED', async () => {
    const tight = openSqliteStore(':memory:', { maxWatchBuffer: 10 });
    try {
      const slow = tight.watch({}, AbortSignal.timeout(5_000))[Symbol.asyncIterator]();
      const healthy = tight.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000));
      const reading = readUntil(healthy, 30);
      for (let i = 0; i < 30; i++) await tight.create(aService(`s${i}`)); // never waits on `slow`
      expect(revisionsOf(await reading)).toEqual(range(1, 30));
      await expect(slow.next()).rejects.toSatisfy((e: unknown) => isAppError(e, 'EXPIRED'));
      expect(await slow.next()).toEqual({ done: true, value: undefined });
      expect(tight.watchCount).toBe(0);
    } finally {
      await tight.close();
    }
  });

  it('replays every kind in revision order for a watch of all kinds', async () => {
    await store.create(aNamespace('a'));
    await store.create(aService('web', { namespace: 'a' }));
    const events: WatchEvent[] = await readUntil(store.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 2);
    expect(events.map((e) => e.object.kind)).toEqual(['Namespace', 'Service']);
  });
});
