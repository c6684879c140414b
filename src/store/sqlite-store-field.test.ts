// Field-selected lists and watches (spec.node, spec.service): what an agent following its node sees.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Instance, Service } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import type { WatchEvent, WatchOptions } from './store.js';
import { boundTo, inPhase, take } from './test-helpers.js';
import { aService, anInstance } from '../core/test-builders.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const onNode = (node: string | undefined): WatchOptions => ({ kind: 'Instance', field: { path: 'spec.node', value: node } });
const summary = (events: readonly WatchEvent[]) =>
  events.map((e) => [e.type, e.object.metadata.name, (e.object.spec as { node?: string }).node ?? '-', e.revision]);

/** Collects what a watch has buffered so far, without waiting for more. */
async function drain(watch: AsyncIterable<WatchEvent>, ac: AbortController): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const reading = (async () => {
    for await (const e of watch) out.push(e);
  })();
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await reading;
  return out;
}

describe('SqliteStore field-selected watch', () => {
  it('hands a node watch the bind of an instance to it (ADDED), its changes and its deletion, and nothing of other nodes', async () => {
    store = openSqliteStore(':memory:');
    const ac = new AbortController();
    const n1 = store.watch(onNode('n1'), ac.signal);
    const a = await store.create<Instance>(anInstance('web-aaaaa'));
    const b = await store.create<Instance>(anInstance('web-bbbbb'));
    const aBound = await store.update(boundTo(a, 'n1'));
    const bBound = await store.update(boundTo(b, 'n2'));
    const aRunning = await store.update(inPhase(aBound, 'Running'));
    await store.update(inPhase(bBound, 'Running'));
    await store.create<Service>(aService('web'));
    const gone = await store.delete('Instance', 'default', 'web-aaaaa');
    await store.delete('Instance', 'default', 'web-bbbbb');

    expect(summary(await drain(n1, ac))).toEqual([
      ['ADDED', 'web-aaaaa', 'n1', aBound.metadata.revision],
      ['MODIFIED', 'web-aaaaa', 'n1', aRunning.metadata.revision],
      ['DELETED', 'web-aaaaa', 'n1', gone.metadata.revision],
    ]);
  });

  it('tells the old node DELETED (the object with its old node) and the new node ADDED when an instance moves', async () => {
    store = openSqliteStore(':memory:');
    const ac = new AbortController();
    const [n1, n2] = [store.watch(onNode('n1'), ac.signal), store.watch(onNode('n2'), ac.signal)];
    const a = await store.create<Instance>(anInstance('web-aaaaa', { node: 'n1' }));
    const moved = await store.update(boundTo(a, 'n2'));
    const [seen1, seen2] = [drain(n1, ac), drain(n2, ac)];

    const left = await seen1;
    expect(summary(left)).toEqual([
      ['ADDED', 'web-aaaaa', 'n1', a.metadata.revision],
      ['DELETED', 'web-aaaaa', 'n1', moved.metadata.revision],
    ]);
    expect(left[1]?.object).toEqual(boundTo(moved, 'n1'));
    expect(Object.isFrozen(left[1]?.object.spec)).toBe(true);
    expect(summary(await seen2)).toEqual([['ADDED', 'web-aaaaa', 'n2', moved.metadata.revision]]);
  });

  it('follows unbound instances with an absent value: created ADDED, bound DELETED', async () => {
    store = openSqliteStore(':memory:');
    const ac = new AbortController();
    const pending = store.watch(onNode(undefined), ac.signal);
    const a = await store.create<Instance>(anInstance('web-aaaaa'));
    await store.create<Instance>(anInstance('web-bbbbb', { node: 'n1' }));
    const bound = await store.update(boundTo(a, 'n1'));
    expect(summary(await drain(pending, ac))).toEqual([
      ['ADDED', 'web-aaaaa', '-', a.metadata.revision],
      ['DELETED', 'web-aaaaa', '-', bound.metadata.revision],
    ]);
  });

  it('replays history through the same filter, from any revision', async () => {
    store = openSqliteStore(':memory:');
    const a = await store.create<Instance>(anInstance('web-aaaaa'));
    await store.create<Instance>(anInstance('web-bbbbb', { node: 'n2' }));
    const bound = await store.update(boundTo(a, 'n1'));
    const running = await store.update(inPhase(bound, 'Running'));
    const moved = await store.update(boundTo(running, 'n2'));

    const fromStart = await take(store.watch({ ...onNode('n1'), fromRevision: 0 }, AbortSignal.timeout(2000)), 3);
    expect(summary(fromStart)).toEqual([
      ['ADDED', 'web-aaaaa', 'n1', bound.metadata.revision],
      ['MODIFIED', 'web-aaaaa', 'n1', running.metadata.revision],
      ['DELETED', 'web-aaaaa', 'n1', moved.metadata.revision],
    ]);
    const late = await take(store.watch({ ...onNode('n1'), fromRevision: running.metadata.revision }, AbortSignal.timeout(2000)), 1);
    expect(summary(late)).toEqual([['DELETED', 'web-aaaaa', 'n1', moved.metadata.revision]]);
  });

  it('selects by spec.service too, and without a kind', async () => {
    store = openSqliteStore(':memory:');
    const ac = new AbortController();
    const api = store.watch({ field: { path: 'spec.service', value: 'api' } }, ac.signal);
    await store.create<Instance>(anInstance('web-aaaaa', { service: 'web' }));
    const b = await store.create<Instance>(anInstance('api-bbbbb', { service: 'api' }));
    expect(summary(await drain(api, ac))).toEqual([['ADDED', 'api-bbbbb', '-', b.metadata.revision]]);
  });

  it('lets go of a field watch when it is aborted', async () => {
    store = openSqliteStore(':memory:');
    const ac = new AbortController();
    store.watch(onNode('n1'), ac.signal);
    store.watch(onNode('n1'), new AbortController().signal);
    expect(store.watchCount).toBe(2);
    ac.abort();
    expect(store.watchCount).toBe(1);
  });
});

describe('SqliteStore field-selected list', () => {
  it('lists by node from its index, kept current through binds, moves and deletes, at the list revision', async () => {
    store = openSqliteStore(':memory:');
    const a = await store.create<Instance>(anInstance('web-aaaaa', { node: 'n1' }));
    await store.create<Instance>(anInstance('web-bbbbb', { node: 'n1', namespace: 'team-a' }));
    const c = await store.create<Instance>(anInstance('web-ccccc'));
    const names = async (value: string | undefined, namespace?: string) =>
      (await store.list('Instance', { namespace, field: { path: 'spec.node', value } })).items.map((i) => i.metadata.name).sort();
    expect(await names('n1')).toEqual(['web-aaaaa', 'web-bbbbb']); // builds the index
    expect(await names('n1', 'default')).toEqual(['web-aaaaa']);
    expect(await names(undefined)).toEqual(['web-ccccc']);

    await store.update(boundTo(c, 'n1'));
    await store.update(boundTo(a, 'n2'));
    await store.delete('Instance', 'team-a', 'web-bbbbb');
    expect(await names('n1')).toEqual(['web-ccccc']);
    expect(await names('n2')).toEqual(['web-aaaaa']);
    expect(await names(undefined)).toEqual([]);
    const listed = await store.list('Instance', { field: { path: 'spec.node', value: 'n2' } });
    expect(listed.revision).toBe(await store.currentRevision());
    expect(listed.items[0]).toBe(await store.get('Instance', 'default', 'web-aaaaa'));
  });
});

describe('SqliteStore field-selected watch after a reopen', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('recognises moves within the reloaded history, and lists by field from the reloaded objects', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-store-field-'));
    const file = join(dir, 'gantry.db');
    const first = openSqliteStore(file);
    const a = await first.create<Instance>(anInstance('web-aaaaa'));
    const bound = await first.update(boundTo(a, 'n1'));
    const moved = await first.update(boundTo(bound, 'n2'));
    await first.close();

    store = openSqliteStore(file);
    const n1 = await take(store.watch({ ...onNode('n1'), fromRevision: 0 }, AbortSignal.timeout(2000)), 2);
    expect(summary(n1)).toEqual([
      ['ADDED', 'web-aaaaa', 'n1', bound.metadata.revision],
      ['DELETED', 'web-aaaaa', 'n1', moved.metadata.revision],
    ]);
    const listed = await store.list('Instance', { field: { path: 'spec.node', value: 'n2' } });
    expect(listed.items.map((i: Instance) => i.metadata.name)).toEqual(['web-aaaaa']);
  });
});
