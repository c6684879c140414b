// Property: for any mix of instance creates, binds, moves, status changes and deletes (some
// batched, some failing), a field-selected list equals the full list filtered, and a field-selected
// watch, live or replayed, delivers exactly what a filtering watch would under Kubernetes' rule
// (entering = ADDED, leaving = DELETED with the selected fields as they were), computed here independently.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError, objectKey } from '../core/index.js';
import type { AnyObject } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { FieldPath, TxnOp, WatchEvent } from './store.js';
import { boundTo, inPhase, readUntil } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const NODES = ['n1', 'n2', undefined] as const;
const SERVICES = ['web', 'api'] as const;
const NAMESPACES = ['x', 'y'] as const;

type Step = {
  op: 'create' | 'bind' | 'touch' | 'delete';
  name: string;
  ns: (typeof NAMESPACES)[number];
  node: (typeof NODES)[number];
  service: (typeof SERVICES)[number];
};

const aStep: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom('create' as const, 'bind' as const, 'bind' as const, 'touch' as const, 'delete' as const),
  name: fc.constantFrom('a', 'b', 'c', 'd'),
  ns: fc.constantFrom(...NAMESPACES),
  node: fc.constantFrom(...NODES),
  service: fc.constantFrom(...SERVICES),
});

async function toOp(store: SqliteStore, s: Step): Promise<TxnOp> {
  const current = await store.get('Instance', s.ns, s.name);
  const fresh = anInstance(s.name, { namespace: s.ns, service: s.service, ...(s.node && { node: s.node }) });
  if (s.op === 'create') return { op: 'create', object: fresh };
  if (s.op === 'delete') return { op: 'delete', kind: 'Instance', namespace: s.ns, name: s.name };
  const base = current ?? ({ ...fresh, metadata: { ...fresh.metadata, revision: 1 } });
  if (s.op === 'touch') return { op: 'update', object: inPhase(base, base.status?.phase === 'Running' ? 'Pending' : 'Running') };
  // A bind may also change the service, so both indexed paths move.
  const object = boundTo(base, s.node);
  return { op: 'update', object: { ...object, spec: { ...object.spec, service: s.service } } };
}

/** Read independently of the store's own field code. */
function valueOf(o: AnyObject | undefined, path: FieldPath): string | undefined {
  const spec = o?.spec as { node?: string; service?: string } | undefined;
  return path === 'spec.node' ? spec?.node : spec?.service;
}

const keyOf = (o: AnyObject) => objectKey(o.kind, o.metadata.namespace, o.metadata.name);

/** What a watch selecting path=value sees of the full event stream, by Kubernetes' rule. */
function expectedView(all: readonly WatchEvent[], path: FieldPath, value: string | undefined, namespace?: string): WatchEvent[] {
  const last = new Map<string, AnyObject>();
  const out: WatchEvent[] = [];
  for (const e of all) {
    const before = last.get(keyOf(e.object));
    if (e.type === 'DELETED') last.delete(keyOf(e.object));
    else last.set(keyOf(e.object), e.object);
    if (namespace !== undefined && e.object.metadata.namespace !== namespace) continue;
    const now = valueOf(e.object, path) === value;
    const was = e.type === 'MODIFIED' ? valueOf(before, path) === value : now;
    if (now && was) out.push(e);
    else if (now) out.push({ type: 'ADDED', revision: e.revision, object: e.object });
    else if (was && before) {
      // The object at this change, with the selected fields put back as they were.
      const { node: _n, service: _s, ...rest } = e.object.spec as Record<string, unknown>;
      const old = before.spec as { node?: string; service?: string };
      const spec = { ...rest, ...(old.node !== undefined && { node: old.node }), ...(old.service !== undefined && { service: old.service }) };
      out.push({ type: 'DELETED', revision: e.revision, object: { ...e.object, spec } as AnyObject });
    }
  }
  return out;
}

/** Everything a watch has buffered (the store publishes synchronously, so that is all there is); then ends it. */
async function drain({ watch, ac }: Opened): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const reading = (async () => {
    for await (const e of watch) out.push(e);
  })();
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await reading;
  return out;
}

interface Opened {
  watch: AsyncIterable<WatchEvent>;
  ac: AbortController;
}

function open(store: SqliteStore, opts: Parameters<SqliteStore['watch']>[0]): Opened {
  const ac = new AbortController();
  return { watch: store.watch(opts, ac.signal), ac };
}

const SELECTIONS: { path: FieldPath; value: string | undefined; namespace?: string }[] = [
  ...NODES.map((value) => ({ path: 'spec.node' as const, value })),
  ...SERVICES.map((value) => ({ path: 'spec.service' as const, value })),
  { path: 'spec.node', value: 'n1', namespace: 'x' },
];

describe('SqliteStore field selection (property)', () => {
  it('lists and watches by field exactly as filtering the whole kind would', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(aStep, { minLength: 1, maxLength: 3 }), { maxLength: 30 }), fc.boolean(), async (batches, listEarly) => {
        const store = openSqliteStore(':memory:');
        try {
          const everything = open(store, { kind: 'Instance' });
          const live = SELECTIONS.map((s) => open(store, { kind: 'Instance', namespace: s.namespace, field: { path: s.path, value: s.value } }));
          // Building the list index before or after the writes must not matter.
          if (listEarly) for (const s of SELECTIONS) await store.list('Instance', { field: { path: s.path, value: s.value } });
          for (const batch of batches) {
            const ops: TxnOp[] = [];
            for (const s of batch) ops.push(await toOp(store, s));
            await store.txn(ops).catch((e: unknown) => {
              if (!isAppError(e, 'CONFLICT') && !isAppError(e, 'NOT_FOUND')) throw e;
            });
          }
          const revision = await store.currentRevision();
          const all = await drain(everything);
          const full = await store.list('Instance');

          for (const [i, s] of SELECTIONS.entries()) {
            const what = `${s.path}=${s.value ?? ''}${s.namespace ? ` in ${s.namespace}` : ''}`;
            const expected = expectedView(all, s.path, s.value, s.namespace);
            expect(await drain(live[i] as Opened), `live watch ${what}`).toEqual(expected);
            const replay = store.watch({ kind: 'Instance', namespace: s.namespace, fromRevision: 0, field: { path: s.path, value: s.value } }, AbortSignal.timeout(2000));
            const replayed = expected.length === 0 ? [] : await readUntil(replay, (expected[expected.length - 1] as WatchEvent).revision);
            expect(replayed, `replayed watch ${what}`).toEqual(expected);

            const listed = await store.list('Instance', { namespace: s.namespace, field: { path: s.path, value: s.value } });
            expect(listed.revision).toBe(revision);
            const filtered = full.items.filter((o) => valueOf(o, s.path) === s.value && (s.namespace === undefined || o.metadata.namespace === s.namespace));
            expect(listed.items.map(keyOf).sort(), `list ${what}`).toEqual(filtered.map(keyOf).sort());
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
