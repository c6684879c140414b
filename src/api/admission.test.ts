import { afterEach, describe, expect, it } from 'vitest';
import { isAppError, type Service } from '../core/index.js';
import { aService } from '../core/test-builders.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { aNamespace } from '../store/test-helpers.js';
import { applyObject } from './apply.js';

let store: SqliteStore;
afterEach(() => store?.close());

const inTeam = (name: string, replicas = 1) => {
  const m = aService(name, { replicas });
  return { ...m, metadata: { ...m.metadata, namespace: 'team' } };
};

async function settle(applies: Promise<unknown>[]): Promise<{ ok: number; refused: string[] }> {
  const results = await Promise.allSettled(applies);
  const refused = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
  for (const r of results) if (r.status === 'rejected') expect(isAppError(r.reason, 'FORBIDDEN') || isAppError(r.reason, 'INVALID'), String(r.reason)).toBe(true);
  return { ok: results.length - refused.length, refused };
}

describe('quota admission under concurrent writes', () => {
  it('lets exactly as many racing applies through as the quota allows: each is counted with the others', async () => {
    store = openSqliteStore(':memory:');
    await store.create({ ...aNamespace('team'), spec: { quota: { services: 2 } } });
    // Six applies at once: each reads the namespace's usage before any has written.
    const { ok, refused } = await settle(Array.from({ length: 6 }, (_, i) => applyObject(store, inTeam(`svc-${i}`))));
    expect(ok).toBe(2);
    expect(refused).toHaveLength(4);
    for (const m of refused) expect(m).toMatch(/quota services exceeded: 2 used, 1 asked, 2 allowed/);
    expect((await store.list('Service', { namespace: 'team' })).items).toHaveLength(2);
  });

  it('counts racing scale-ups of existing services against the instance quota', async () => {
    store = openSqliteStore(':memory:');
    await store.create({ ...aNamespace('team'), spec: { quota: { instances: 6 } } });
    for (const n of ['a', 'b', 'c']) await applyObject(store, inTeam(n, 1));
    // Three services from 1 to 3 replicas at once: 3 + 2 x 3 = 9 > 6, so at most one grows.
    const { ok } = await settle(['a', 'b', 'c'].map((n) => applyObject(store, inTeam(n, 3))));
    expect(ok).toBe(1);
    const replicas = (await store.list('Service', { namespace: 'team' })).items.map((s: Service) => s.spec.replicas ?? 0);
    expect(replicas.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);
  });

  it('writes a namespace without a quota as before: no transaction on the Namespace', async () => {
    store = openSqliteStore(':memory:');
    const ns = await store.create(aNamespace('team'));
    await Promise.all(Array.from({ length: 4 }, (_, i) => applyObject(store, inTeam(`svc-${i}`))));
    expect((await store.get('Namespace', undefined, 'team'))?.metadata.revision).toBe(ns.metadata.revision);
  });
});
