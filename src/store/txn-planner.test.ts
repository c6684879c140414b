// Versions share their unchanged parts (issue 14): what a status report allocates, and keeps
// alive in the mirror and the watch history, is the status and the envelope, not a new spec.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Instance, InstanceStatus } from '../core/index.js';
import { anInstance } from '../core/test-builders.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import { deepFreeze } from './deep-freeze.js';
import { shareEqualParts, storedCopy } from './txn-planner.js';

const running: InstanceStatus = { phase: 'Running', ready: true, updatedAt: '2030-01-01T00:00:00.000Z' } as InstanceStatus;

/** An Instance as a caller sends it to create: no store metadata. */
function newInstance(name: string, node?: string): Instance {
  const i = anInstance(name, node ? { node } : {});
  const { uid: _u, revision: _r, createdAt: _c, ...metadata } = i.metadata;
  const { status: _s, ...rest } = i;
  return { ...rest, metadata } as Instance;
}

describe('versions share unchanged parts', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('a status write keeps the stored spec and labels, and makes a new status and metadata', async () => {
    const created = await store.create<Instance>(newInstance('web-1', 'n1'));
    // A copy of the spec, as a client that read JSON would send: equal, not the same object.
    const updated = await store.update<Instance>({ ...structuredClone(created), status: running });
    expect(updated.spec).toBe(created.spec);
    expect(updated.metadata.labels).toBe(created.metadata.labels);
    expect(updated.metadata).not.toBe(created.metadata);
    expect(updated.metadata.revision).toBe(created.metadata.revision + 1);
    expect(updated.status).toEqual(running);
    expect(Object.isFrozen(updated.status)).toBe(true);
  });

  it('a spec change shares only the spec’s unchanged parts', async () => {
    const created = await store.create<Instance>(newInstance('web-1'));
    const bound = await store.update<Instance>({ ...created, spec: { ...structuredClone(created.spec), node: 'n7' } });
    expect(bound.spec).not.toBe(created.spec);
    expect(bound.spec.node).toBe('n7');
    expect(bound.spec.containers).toBe(created.spec.containers);
    expect(created.spec.node).toBeUndefined(); // the old version is untouched
  });

  it('instances created in one transaction share their equal spec', async () => {
    const [a, b] = await store.txn([
      { op: 'create', object: newInstance('web-1') },
      { op: 'create', object: newInstance('web-2') },
    ]);
    expect(b!.object.spec).toBe(a!.object.spec);
    expect(b!.object.metadata.name).toBe('web-2');
  });

  it('what is shared reads back the same after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-planner-'));
    try {
      const disk = openSqliteStore(join(dir, 'state.db'));
      await disk.txn([
        { op: 'create', object: newInstance('web-1') },
        { op: 'create', object: newInstance('web-2', 'n2') },
      ]);
      const one = (await disk.get('Instance', 'default', 'web-1'))!;
      await disk.update<Instance>({ ...one, status: running });
      const before = (await disk.list('Instance')).items;
      await disk.close();
      const again = openSqliteStore(join(dir, 'state.db'));
      expect((await again.list('Instance')).items).toEqual(before);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shareEqualParts', () => {
  const json = fc.jsonValue({ maxDepth: 4 });

  /** `v` with one leaf changed somewhere (or unchanged when it has none): parts equal to `v`'s abound. */
  const nearly = (v: unknown, pick: number): unknown => {
    if (Array.isArray(v)) {
      const list = v as unknown[];
      return list.length === 0 ? list : list.map((x, i) => (i === pick % list.length ? nearly(x, pick >> 1) : x));
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 0) return v;
      const k = keys[pick % keys.length]!;
      return { ...v, [k]: nearly((v as Record<string, unknown>)[k], pick >> 1) };
    }
    return typeof v === 'number' ? v + 1 : typeof v === 'string' ? `${v}!` : v === null ? 0 : !v;
  };

  it('keeps the fresh value exactly, key order included, and shares the parts a near copy left equal', () => {
    fc.assert(
      fc.property(json, fc.nat(), (a, pick) => {
        const old = JSON.parse(JSON.stringify(a)) as unknown;
        const text = JSON.stringify(nearly(a, pick));
        const shared = shareEqualParts(JSON.parse(text), old);
        expect(JSON.stringify(shared)).toBe(text);
        if (text === JSON.stringify(a) && typeof old === 'object' && old !== null) expect(shared).toBe(old);
      }),
    );
  });

  it('does not share a part whose keys are in another order', () => {
    const old = { spec: { a: 1, b: 2 }, status: { x: 1 } };
    const shared = shareEqualParts({ spec: { b: 2, a: 1 }, status: { x: 1 } }, old) as typeof old;
    expect(JSON.stringify(shared)).toBe('{"spec":{"b":2,"a":1},"status":{"x":1}}');
    expect(shared.status).toBe(old.status);
    expect(shared.spec).not.toBe(old.spec);
  });

  it('returns a value equal to the fresh one, and the old one wherever they are equal', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const fresh = JSON.parse(JSON.stringify(a)) as unknown;
        const old = JSON.parse(JSON.stringify(b)) as unknown;
        const expected = JSON.parse(JSON.stringify(a)) as unknown;
        const shared = shareEqualParts(fresh, old);
        expect(shared).toEqual(expected);
        if (JSON.stringify(a) === JSON.stringify(b) && typeof old === 'object' && old !== null) expect(shared).toBe(old);
      }),
    );
  });

  it('keeps an equal part of the old value, and leaves the old value as it was', () => {
    const old = { spec: { containers: [{ image: 'a' }] }, status: { phase: 'Pending' } };
    const frozenCopy = JSON.stringify(old);
    const fresh = { spec: { containers: [{ image: 'a' }] }, status: { phase: 'Running' } };
    const shared = shareEqualParts(fresh, old) as typeof old;
    expect(shared.spec).toBe(old.spec);
    expect(shared.status).toEqual({ phase: 'Running' });
    expect(JSON.stringify(old)).toBe(frozenCopy);
  });

  it('does not take an old object for an array or a longer list for a shorter one', () => {
    expect(shareEqualParts({ a: [1, 2] }, { a: { 0: 1, 1: 2 } })).toEqual({ a: [1, 2] });
    expect(shareEqualParts({ a: [1] }, { a: [1, 2] })).toEqual({ a: [1] });
    expect(shareEqualParts({ a: 1 }, { a: 1, b: 2 })).toEqual({ a: 1 });
    expect(shareEqualParts({ a: 1, b: 2 }, { a: 1 })).toEqual({ a: 1, b: 2 });
  });
});

describe('storedCopy', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  /** A top-level member: the old version's own part, a fresh equal copy of it, another value, undefined, or absent. */
  const member = fc.constantFrom('own', 'copy', 'other', 'undefined', 'absent');

  it('writes exactly what JSON.stringify would, and keeps a frozen copy equal to its parse', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 5 }), fc.array(member, { minLength: 6, maxLength: 6 }), json, (base, how, other) => {
        const alike = deepFreeze(JSON.parse(JSON.stringify(base)) as Record<string, unknown>);
        const stored: Record<string, unknown> = {};
        for (const [i, k] of [...Object.keys(alike), 'extra'].entries()) {
          const h = how[i % how.length];
          if (h === 'own') stored[k] = alike[k];
          else if (h === 'copy') stored[k] = JSON.parse(JSON.stringify(alike[k] ?? null)) as unknown;
          else if (h === 'other') stored[k] = other;
          else if (h === 'undefined') stored[k] = undefined;
        }
        const out = storedCopy(stored as never, alike as never);
        const text = JSON.stringify(stored);
        expect(out.json).toBe(text);
        expect(out.object).toStrictEqual(JSON.parse(text));
        expect(JSON.stringify(out.object)).toBe(text);
        expect(Object.isFrozen(out.object)).toBe(true);
        for (const k of Object.keys(out.object)) {
          const v = (out.object as unknown as Record<string, unknown>)[k];
          if (typeof v === 'object' && v !== null) expect(Object.isFrozen(v)).toBe(true);
        }
      }),
    );
  });

  it('takes the old version’s own parts as they are, shares equal ones, and keeps none of the caller’s objects', () => {
    const alike = deepFreeze({ spec: { image: 'a', ports: [1, 2] }, metadata: { name: 'x', labels: { app: 'web' }, revision: 1 }, status: { phase: 'Pending' } });
    const status = { phase: 'Running' };
    const metadata = { ...alike.metadata, revision: 2 };
    const out = storedCopy({ spec: alike.spec, metadata, status } as never, alike as never);
    const object = out.object as unknown as typeof alike;
    expect(object.spec).toBe(alike.spec);
    expect(object.metadata.labels).toBe(alike.metadata.labels);
    expect(object.metadata).not.toBe(metadata);
    expect(object.status).not.toBe(status);
    expect(object.status).toEqual(status);
    status.phase = 'Failed';
    expect(object.status.phase).toBe('Running');
  });

  it('writes -0, a __proto__ member and toJSON members as JSON.stringify does', () => {
    const alike = deepFreeze({ kind: 'X', n: 0, spec: { a: 1 } });
    const negative = storedCopy({ kind: 'X', n: -0, spec: alike.spec } as never, alike as never);
    expect(negative.json).toBe('{"kind":"X","n":0,"spec":{"a":1}}');
    expect(Object.is((negative.object as unknown as { n: number }).n, 0)).toBe(true);

    const proto = JSON.parse('{"kind":"X","__proto__":{"evil":1},"spec":{"a":1}}') as Record<string, unknown>;
    const poisoned = storedCopy(proto as never, alike as never);
    expect(poisoned.json).toBe(JSON.stringify(proto));
    expect(JSON.stringify(poisoned.object)).toBe(poisoned.json);
    expect(Object.getPrototypeOf(poisoned.object)).toBe(Object.prototype);

    const keyed = { kind: 'X', spec: { toJSON: (key: string) => `key=${key}` } };
    expect(storedCopy(keyed as never, alike as never).json).toBe('{"kind":"X","spec":"key=spec"}');
  });
});
