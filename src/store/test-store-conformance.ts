// One suite of the Store contract (src/core/store.ts) that every backend passes: SQLite in the unit
// tests (sqlite-store-conformance.test.ts), etcd in the e2e tests (test/e2e/etcd-store.test.ts,
// against a real etcd). Revisions are compared, never assumed: etcd's skip numbers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ExpiredError, NotFoundError, StaleRevisionError } from '../core/index.js';
import type { Instance, Service } from '../core/index.js';
import { aNode, aService } from '../core/test-builders.js';
import type { Store, WatchEvent } from './store.js';
import { aNamespace, boundTo, readUntil, take, withReplicas } from './test-helpers.js';

export interface ConformanceOptions {
  /** A fresh, empty store; `historyLimit`: the changes kept for watches to resume from. */
  open: (opts: { historyLimit?: number; now?: () => Date }) => Promise<Store>;
}

function anInstance(name: string, node?: string): Parameters<Store['create']>[0] {
  const inst = {
    apiVersion: 'gantry/v1',
    kind: 'Instance',
    metadata: { name, namespace: 'default' },
    spec: { service: 'web', containers: [{ name: 'main', image: 'busybox:1.36' }], ...(node ? { node } : {}) },
  };
  return inst as unknown as Parameters<Store['create']>[0];
}

export function storeConformance(backend: string, opts: ConformanceOptions): void {
  describe(`Store contract: ${backend}`, () => {
    let store: Store;
    const now = () => new Date('2030-01-02T03:04:05.000Z');
    beforeEach(async () => {
      store = await opts.open({ now });
    });
    afterEach(async () => {
      await store.close();
    });

    it('assigns uid, a growing revision and createdAt on create; get returns what create returned', async () => {
      const before = await store.currentRevision();
      const a = await store.create<Service>(aService('web'));
      const b = await store.create(aNode('n1'));
      expect(a.metadata).toMatchObject({ name: 'web', namespace: 'default', createdAt: '2030-01-02T03:04:05.000Z' });
      expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.metadata.revision).toBeGreaterThan(before);
      expect(b.metadata.revision).toBeGreaterThan(a.metadata.revision);
      expect(await store.currentRevision()).toBe(b.metadata.revision);
      expect(await store.get('Service', 'default', 'web')).toEqual(a);
      expect(await store.get('Service', 'other', 'web')).toBeUndefined();
    });

    it('freezes what it returns', async () => {
      const stored = await store.create(aService('web'));
      expect(() => {
        (stored.spec as { replicas?: number }).replicas = 9;
      }).toThrow(TypeError);
      const got = await store.get('Service', 'default', 'web');
      expect(Object.isFrozen(got?.metadata)).toBe(true);
    });

    it('answers 409 when creating an object that exists, and writes nothing', async () => {
      await store.create<Service>(aService('web'));
      const rev = await store.currentRevision();
      const err = await store.create<Service>(aService('web')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toContain('service "default/web" already exists');
      expect(await store.currentRevision()).toBe(rev);
    });

    it('updates by compare-and-swap on metadata.revision, keeping uid and createdAt', async () => {
      const v1 = await store.create<Service>(aService('web'));
      const v2 = await store.update(withReplicas(v1, 3));
      expect(v2.metadata.revision).toBeGreaterThan(v1.metadata.revision);
      expect(v2.metadata).toMatchObject({ uid: v1.metadata.uid, createdAt: v1.metadata.createdAt });
      const stale = await store.update(withReplicas(v1, 5)).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(StaleRevisionError);
      expect((stale as Error).message).toContain(`it is at revision ${v2.metadata.revision}, the update was based on revision ${v1.metadata.revision}`);
      expect((await store.get('Service', 'default', 'web'))?.spec.replicas).toBe(3);
    });

    it('answers NotFoundError when updating or deleting an object that is gone', async () => {
      const v1 = await store.create<Service>(aService('web'));
      await store.delete('Service', 'default', 'web');
      expect(await store.update(withReplicas(v1, 2)).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
      expect(await store.delete('Service', 'default', 'web').catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });

    it('deletes only at the given revision, and returns the last state at the delete’s revision', async () => {
      const v1 = await store.create<Service>(aService('web'));
      const v2 = await store.update(withReplicas(v1, 4));
      const refused = await store.delete('Service', 'default', 'web', { revision: v1.metadata.revision }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConflictError);
      const gone = await store.delete('Service', 'default', 'web', { revision: v2.metadata.revision });
      expect(gone.metadata.revision).toBeGreaterThan(v2.metadata.revision);
      expect((gone as Service).spec.replicas).toBe(4);
      expect(await store.get('Service', 'default', 'web')).toBeUndefined();
    });

    it('lists one kind, optionally one namespace, at the revision it returns', async () => {
      await store.create(aNamespace('other'));
      await store.create<Service>(aService('web'));
      const api = await store.create<Service>({ ...aService('api'), metadata: { name: 'api', namespace: 'other' } });
      const all = await store.list('Service');
      expect(all.items.map((s) => s.metadata.name).sort()).toEqual(['api', 'web']);
      expect(all.revision).toBe(api.metadata.revision);
      expect((await store.list('Service', { namespace: 'other' })).items.map((s) => s.metadata.name)).toEqual(['api']);
      expect((await store.list('Node')).items).toEqual([]);
    });

    it('commits a transaction whole: results in order, revisions never going back', async () => {
      const results = await store.txn([
        { op: 'create', object: aService('a') },
        { op: 'create', object: aNode('n1') },
        { op: 'create', object: aService('b') },
      ]);
      expect(results.map((r) => r.op)).toEqual(['create', 'create', 'create']);
      const revs = results.map((r) => r.object.metadata.revision);
      expect([...revs].sort((x, y) => x - y)).toEqual(revs);
      expect(await store.currentRevision()).toBe(revs[2]);
      for (const r of results) expect(await store.get(r.object.kind, r.object.metadata.namespace, r.object.metadata.name)).toEqual(r.object);
    });

    it('writes nothing when any op of a transaction fails', async () => {
      const web = await store.create<Service>(aService('web'));
      const rev = await store.currentRevision();
      const err = await store
        .txn([
          { op: 'create', object: aService('new') },
          { op: 'update', object: withReplicas(web, 7) },
          { op: 'update', object: { ...withReplicas(web, 8), metadata: { ...web.metadata, revision: web.metadata.revision - 1 } } as Service },
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(await store.currentRevision()).toBe(rev);
      expect(await store.get('Service', 'default', 'new')).toBeUndefined();
      expect((await store.get('Service', 'default', 'web'))?.spec.replicas).toBe(web.spec.replicas);
    });

    it('watches from a list’s revision with no gap and no duplicate', async () => {
      await store.create<Service>(aService('a'));
      const listed = await store.list('Service');
      const b = await store.create<Service>(aService('b'));
      const ac = new AbortController();
      const watch = store.watch({ kind: 'Service', fromRevision: listed.revision }, ac.signal);
      const c = await store.create<Service>(aService('c'));
      const events = await readUntil(watch, c.metadata.revision);
      ac.abort();
      expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
        ['ADDED', 'b'],
        ['ADDED', 'c'],
      ]);
      expect(events[0]?.revision).toBe(b.metadata.revision);
    });

    it('delivers MODIFIED and DELETED; DELETED carries the last stored object', async () => {
      const v1 = await store.create<Service>(aService('web'));
      const ac = new AbortController();
      const watch = store.watch({ kind: 'Service', fromRevision: v1.metadata.revision }, ac.signal);
      await store.update(withReplicas(v1, 6));
      const gone = await store.delete('Service', 'default', 'web');
      const events = await readUntil(watch, gone.metadata.revision);
      ac.abort();
      expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
      expect((events[1]?.object as Service).spec.replicas).toBe(6);
      expect(events[1]?.revision).toBe(gone.metadata.revision);
    });

    it('resumes from the last revision a watch saw, missing nothing', async () => {
      const ac1 = new AbortController();
      const start = await store.currentRevision();
      const w1 = store.watch({ kind: 'Service', fromRevision: start }, ac1.signal);
      const a = await store.create<Service>(aService('a'));
      const [first] = await take(w1, 1);
      ac1.abort();
      expect(first?.revision).toBe(a.metadata.revision);
      await store.create<Service>(aService('b'));
      const c = await store.create<Service>(aService('c'));
      const ac2 = new AbortController();
      const rest = await readUntil(store.watch({ kind: 'Service', fromRevision: first?.revision }, ac2.signal), c.metadata.revision);
      ac2.abort();
      expect(rest.map((e) => e.object.metadata.name)).toEqual(['b', 'c']);
    });

    it('follows a field: an instance bound to a node enters its watch, moving away leaves it', async () => {
      const inst = (await store.create(anInstance('i1'))) as Instance;
      const ac = new AbortController();
      const watch = store.watch({ kind: 'Instance', fromRevision: inst.metadata.revision, field: { path: 'spec.node', value: 'n1' } }, ac.signal);
      const bound = await store.update(boundTo(inst, 'n1'));
      const moved = await store.update(boundTo(bound, 'n2'));
      const events = await readUntil(watch, moved.metadata.revision);
      ac.abort();
      expect(events.map((e) => [e.type, (e.object as Instance).spec.node])).toEqual([
        ['ADDED', 'n1'],
        ['DELETED', 'n1'],
      ]);
      const listed = await store.list('Instance', { field: { path: 'spec.node', value: 'n2' } });
      expect(listed.items.map((i) => i.metadata.name)).toEqual(['i1']);
    });

    it('ends a watch without error when its signal aborts', async () => {
      const ac = new AbortController();
      const watch = store.watch({ kind: 'Service' }, ac.signal);
      const read = take(watch, 1);
      ac.abort();
      expect(await read).toEqual([]);
    });
  });

  describe(`Store contract: ${backend}, history`, () => {
    it('answers EXPIRED to a watch from before the history kept, and resumes within it', async () => {
      const store = await opts.open({ historyLimit: 3 });
      try {
        const first = await store.create<Service>(aService('s0'));
        let last = first;
        for (let i = 1; i <= 5; i++) last = await store.create<Service>(aService(`s${i}`));
        const ac = new AbortController();
        const expired: unknown = await (async () => {
          try {
            for await (const _ of store.watch({ kind: 'Service', fromRevision: first.metadata.revision }, ac.signal)) break;
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(expired).toBeInstanceOf(ExpiredError);
        expect((expired as Error).message).toMatch(/too old.*list again/);
        // The last two changes are still there.
        const prev = (await store.get('Service', 'default', 's4'))?.metadata.revision ?? 0;
        const events: WatchEvent[] = await take(store.watch({ kind: 'Service', fromRevision: prev }, ac.signal), 1);
        ac.abort();
        expect(events.map((e) => e.object.metadata.name)).toEqual(['s5']);
        expect(events[0]?.revision).toBe(last.metadata.revision);
      } finally {
        await store.close();
      }
    });
  });
}
