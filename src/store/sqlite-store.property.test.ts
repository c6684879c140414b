// Property: whatever mix of writes (some failing, some batched in txns) the store receives,
// replaying its watch from revision 0 rebuilds exactly what list returns at the end.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError, objectKey } from '../core/index.js';
import type { AnyObject, Kind } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { TxnOp } from './store.js';
import { aNamespace, range, readUntil, revisionsOf } from './test-helpers.js';
import { aService } from '../core/test-builders.js';

type Step = { op: 'create' | 'update' | 'delete'; kind: 'Service' | 'Namespace'; name: string; ns: string; stale: boolean; replicas: number };

const aStep: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom('create' as const, 'update' as const, 'delete' as const),
  kind: fc.constantFrom('Service' as const, 'Namespace' as const),
  name: fc.constantFrom('a', 'b', 'c'),
  ns: fc.constantFrom('x', 'y'),
  stale: fc.boolean(),
  replicas: fc.nat(5),
});

async function toOp(store: SqliteStore, s: Step): Promise<TxnOp> {
  const ns = s.kind === 'Service' ? s.ns : undefined;
  const current = await store.get(s.kind, ns, s.name);
  const revision = (current?.metadata.revision ?? 1) - (s.stale ? 1 : 0);
  if (s.op === 'create') return { op: 'create', object: s.kind === 'Service' ? aService(s.name, { namespace: s.ns, replicas: s.replicas }) : aNamespace(s.name) };
  if (s.op === 'delete') return { op: 'delete', kind: s.kind, namespace: ns, name: s.name, revision: s.stale ? revision : undefined };
  const base = current ?? { ...(s.kind === 'Service' ? aService(s.name, { namespace: s.ns }) : aNamespace(s.name)) };
  const object = { ...base, metadata: { ...base.metadata, revision, labels: { n: String(s.replicas) } } } as AnyObject;
  return { op: 'update', object };
}

const key = (o: AnyObject) => objectKey(o.kind, o.metadata.namespace, o.metadata.name);

describe('SqliteStore watch replay (property)', () => {
  it('replaying the watch from 0 reconstructs exactly the final list', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(aStep, { minLength: 1, maxLength: 4 }), { maxLength: 25 }), async (batches) => {
        const store = openSqliteStore(':memory:');
        try {
          for (const batch of batches) {
            const ops: TxnOp[] = [];
            for (const s of batch) ops.push(await toOp(store, s));
            await store.txn(ops).catch((e: unknown) => {
              if (!isAppError(e, 'CONFLICT') && !isAppError(e, 'NOT_FOUND')) throw e;
            });
          }
          const revision = await store.currentRevision();
          const events = await readUntil(store.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), revision);
          expect([...new Set(revisionsOf(events))]).toEqual(range(1, revision)); // one revision per successful txn

          const rebuilt = new Map<string, AnyObject>();
          for (const e of events) {
            if (e.type === 'DELETED') rebuilt.delete(key(e.object));
            else rebuilt.set(key(e.object), e.object);
          }
          const listed = new Map<string, AnyObject>();
          for (const kind of ['Service', 'Namespace'] as Kind[]) {
            const l = await store.list(kind);
            expect(l.revision).toBe(revision);
            for (const o of l.items) listed.set(key(o), o);
          }
          expect(new Map([...rebuilt].sort())).toEqual(new Map([...listed].sort()));
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
