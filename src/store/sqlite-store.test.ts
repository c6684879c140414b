import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, isAppError } from '../core/index.js';
import type { Service } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { TxnOp } from './store.js';
import { aNamespace, withReplicas } from './test-helpers.js';
import { aNode, aService } from '../core/test-builders.js';

describe('SqliteStore', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = openSqliteStore(':memory:', { now: () => new Date('2030-01-02T03:04:05.000Z') });
  });
  afterEach(async () => {
    await store.close();
  });

  it('assigns uid, revision and createdAt on create, one revision per object', async () => {
    const a = await store.create<Service>(aService('web'));
    const b = await store.create(aNode('n1'));
    expect(a.metadata).toMatchObject({ name: 'web', namespace: 'default', revision: 1, createdAt: '2030-01-02T03:04:05.000Z' });
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.metadata.revision).toBe(2);
    expect(b.metadata.uid).not.toBe(a.metadata.uid);
    expect(await store.currentRevision()).toBe(2);
    expect(await store.get('Service', 'default', 'web')).toEqual(a);
    expect(await store.get('Service', 'other', 'web')).toBeUndefined();
  });

  it('freezes what it stores but leaves the caller’s object alone', async () => {
    const input = aService('web');
    const stored = await store.create(input);
    expect(() => {
      (stored.spec as { replicas?: number }).replicas = 9;
    }).toThrow(TypeError);
    input.spec.containers[0]!.image = 'nginx:1';
    expect((await store.get('Service', 'default', 'web'))?.spec.containers[0]?.image).toBe('busybox:1.36');
  });

  it('answers 409 when creating an object that exists', async () => {
    await store.create<Service>(aService('web'));
    const err = await store.create<Service>(aService('web')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).status).toBe(409);
    expect((err as Error).message).toContain('service "default/web" already exists');
    expect(await store.currentRevision()).toBe(1);
  });

  it('updates by compare-and-swap on metadata.revision', async () => {
    const v1 = await store.create<Service>(aService('web'));
    const v2 = await store.update(withReplicas(v1, 3));
    expect(v2.metadata.revision).toBe(2);
    expect(v2.metadata.uid).toBe(v1.metadata.uid);
    expect(v2.metadata.createdAt).toBe(v1.metadata.createdAt);
    expect(v2.spec.replicas).toBe(3);

    const stale = await store.update(withReplicas(v1, 5)).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as Error).message).toMatch(/service "default\/web".*revision 2.*revision 1/);
    expect((await store.get('Service', 'default', 'web'))?.spec.replicas).toBe(3);
  });

  it('answers NotFoundError when updating an object that is gone', async () => {
    const v1 = await store.create<Service>(aService('web'));
    await store.delete('Service', 'default', 'web');
    await expect(store.update(withReplicas(v1, 2))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes, optionally only at a given revision, and returns the object at the delete’s revision', async () => {
    const v1 = await store.create<Service>(aService('web'));
    await expect(store.delete('Service', 'default', 'web', { revision: 7 })).rejects.toBeInstanceOf(ConflictError);
    const gone = await store.delete('Service', 'default', 'web', { revision: v1.metadata.revision });
    expect(gone.metadata.revision).toBe(2);
    expect(gone.metadata.uid).toBe(v1.metadata.uid);
    expect(await store.get('Service', 'default', 'web')).toBeUndefined();
    await expect(store.delete('Service', 'default', 'web')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a namespaced kind without a namespace and a cluster kind with one', async () => {
    const noNs = { ...aService('web'), metadata: { name: 'web' } };
    const err = await store.create(noNs).catch((e: unknown) => e);
    expect(isAppError(err, 'INVALID')).toBe(true);
    const nodeInNs = { ...aNode('n1'), metadata: { name: 'n1', namespace: 'default' } };
    await expect(store.create(nodeInNs)).rejects.toThrow(/cluster-scoped/);
    expect(await store.currentRevision()).toBe(0);
  });

  it('lists one kind, optionally one namespace, consistent with the revision it returns', async () => {
    await store.create<Service>(aService('web', { namespace: 'a' }));
    await store.create<Service>(aService('api', { namespace: 'b' }));
    await store.create(aNamespace('a'));
    const all = await store.list('Service');
    expect(all.revision).toBe(3);
    expect(all.items.map((s) => s.metadata.name)).toEqual(['web', 'api']);
    const inA = await store.list('Service', { namespace: 'a' });
    expect(inA.items.map((s) => s.metadata.name)).toEqual(['web']);

    const before = await store.list('Service', { namespace: 'a' });
    await store.update(withReplicas(before.items[0]!, 4));
    // The earlier result is a snapshot: later writes neither change it nor its revision.
    expect(before.items[0]!.spec.replicas).toBe(1);
    expect(before.revision).toBe(3);
    const after = await store.list('Service', { namespace: 'a' });
    expect(after).toMatchObject({ revision: 4, items: [{ spec: { replicas: 4 } }] });
  });

  it('runs a txn in order at one revision, and ops see earlier ops of the same txn', async () => {
    await store.create<Service>(aService('old'));
    const results = await store.txn([
      { op: 'create', object: aService('web') },
      // The create above is at the txn's revision (2): an update based on it sees it.
      { op: 'update', object: { ...(aService('web', { replicas: 5 }) as Service), metadata: { ...aService('web').metadata, revision: 2 } } as Service },
      { op: 'delete', kind: 'Service', namespace: 'default', name: 'old', revision: 1 },
      { op: 'create', object: aService('api', { namespace: 'default', replicas: 7 }) },
    ]);
    expect(results.map((r) => [r.op, r.object.metadata.name, r.object.metadata.revision])).toEqual([
      ['create', 'web', 2],
      ['update', 'web', 2],
      ['delete', 'old', 2],
      ['create', 'api', 2],
    ]);
    expect(await store.currentRevision()).toBe(2);
    expect((await store.get('Service', 'default', 'web'))?.spec.replicas).toBe(5);
    expect(await store.get('Service', 'default', 'old')).toBeUndefined();
  });

  it('writes nothing when any op of a txn fails', async () => {
    const db = await store.create<Service>(aService('db'));
    await store.update(withReplicas(db, 2)); // db is now at revision 2; `db` is stale
    const events = store.watch({}, AbortSignal.timeout(5_000))[Symbol.asyncIterator]();
    const ops: TxnOp[] = [
      { op: 'create', object: aService('web') },
      { op: 'update', object: withReplicas(db, 9) },
      { op: 'create', object: aService('api') },
    ];
    await expect(store.txn(ops)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.currentRevision()).toBe(2);
    expect(await store.get('Service', 'default', 'web')).toBeUndefined();
    expect((await store.list('Service')).items).toHaveLength(1);
    // The next event a watcher sees is the next successful write, not a leftover of the txn.
    await store.create(aNamespace('x'));
    expect((await events.next()).value).toMatchObject({ type: 'ADDED', revision: 3, object: { kind: 'Namespace' } });
  });

  it('commits a txn of 10,000 creates in one go', async () => {
    const ops: TxnOp[] = [];
    for (let i = 0; i < 10_000; i++) ops.push({ op: 'create', object: aService(`svc-${i}`) });
    const t0 = performance.now();
    await store.txn(ops);
    const ms = performance.now() - t0;
    console.log(`txn of 10,000 creates: ${ms.toFixed(1)} ms`);
    expect(await store.currentRevision()).toBe(1);
    expect((await store.list('Service')).items).toHaveLength(10_000);
  });

  it('ends watches and refuses calls once closed', async () => {
    const w = store.watch({}, new AbortController().signal)[Symbol.asyncIterator]();
    const next = w.next();
    await store.close();
    expect(await next).toEqual({ done: true, value: undefined });
    await expect(store.get('Service', 'default', 'web')).rejects.toThrow(/closed/);
    await expect(store.create<Service>(aService('web'))).rejects.toSatisfy((e: unknown) => isAppError(e, 'UNAVAILABLE'));
    expect(await store.watch({}, new AbortController().signal)[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });
});
