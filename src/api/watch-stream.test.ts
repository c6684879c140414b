// Watch streams over a real listening server, read with the real HTTP client.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAppError, type Instance } from '../core/index.js';
import { createHttpClient } from '../client/http-client.js';
import type { ClientWatchEvent, GantryClient } from '../client/types.js';
import { ADMIN, startHarness, type Harness } from './test-helpers.js';
import { aService, anInstance } from '../core/test-builders.js';

/** The API's own store watch: its token mirror follows Token objects. */
const TOKEN_WATCH = 1;

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function listen(harness: Harness, token = ADMIN): Promise<GantryClient> {
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = harness.app.server.address() as AddressInfo;
  return createHttpClient({ server: `http://127.0.0.1:${port}`, token });
}

/** Reads `n` events (or until the signal aborts) from a watch. */
async function take(it: AsyncIterable<ClientWatchEvent>, n: number, ac: AbortController): Promise<ClientWatchEvent[]> {
  const out: ClientWatchEvent[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= n) break;
  }
  ac.abort();
  return out;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('watch stream', () => {
  it('answers its headers at once on a watch with nothing to send yet (not at the first bookmark)', async () => {
    h = await startHarness({ bookmarkIntervalMs: 60_000 });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    const revision = await h.store.currentRevision();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 2000);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/services?watch=1`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: ac.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gantry-revision')).toBe(String(revision));
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  });

  it('replays from a revision, then follows live changes', async () => {
    h = await startHarness();
    const client = await listen(h);
    const from = await h.store.currentRevision();
    await client.apply(aService('one'));
    const ac = new AbortController();
    const events = take(client.watch({ kind: 'Service', namespace: 'default', fromRevision: from }, ac.signal), 3, ac);
    await client.apply(aService('two'));
    await client.delete('Service', 'default', 'one');
    const got = await events;
    expect(got.map((e) => [e.type, e.object?.metadata.name])).toEqual([
      ['ADDED', 'one'],
      ['ADDED', 'two'],
      ['DELETED', 'one'],
    ]);
    expect(got.map((e) => e.revision)).toEqual([from + 1, from + 2, from + 3]);
  });

  it('resumes from the last revision seen without repeating it', async () => {
    h = await startHarness();
    const client = await listen(h);
    await client.apply(aService('one'));
    const ac1 = new AbortController();
    const [first] = await take(client.watch({ kind: 'Service', fromRevision: 0 }, ac1.signal), 1, ac1);
    await client.apply(aService('two'));
    const ac2 = new AbortController();
    const [next] = await take(client.watch({ kind: 'Service', fromRevision: first!.revision }, ac2.signal), 1, ac2);
    expect(next?.object?.metadata.name).toBe('two');
  });

  it('answers EXPIRED (410) before streaming when the revision is too old', async () => {
    h = await startHarness({ historyLimit: 3 });
    const client = await listen(h);
    for (let i = 0; i < 6; i++) await client.apply(aService(`s${i}`));
    const ac = new AbortController();
    const err = await take(client.watch({ kind: 'Service', fromRevision: 1 }, ac.signal), 1, ac).catch((e: unknown) => e);
    expect(isAppError(err, 'EXPIRED')).toBe(true);
  });

  it('sends BOOKMARKs carrying the revision when idle', async () => {
    h = await startHarness({ bookmarkIntervalMs: 50 });
    const client = await listen(h);
    const rev = await h.store.currentRevision();
    const ac = new AbortController();
    const got = await take(client.watch({ kind: 'Service' }, ac.signal), 2, ac);
    expect(got).toEqual([
      { type: 'BOOKMARK', revision: rev },
      { type: 'BOOKMARK', revision: rev },
    ]);
  });

  it('filters by fieldSelector like the list does', async () => {
    h = await startHarness();
    const client = await listen(h, await h.node('n1'));
    const ac = new AbortController();
    const events = take(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1' }, ac.signal), 2, ac);
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    await h.store.create(anInstance('web-aaaaa', { node: 'n2' }));
    await h.store.create(anInstance('web-bbbbb', { node: 'n1' }));
    await h.store.create(anInstance('web-ccccc', { node: 'n1', namespace: 'default' }));
    expect((await events).map((e) => e.object?.metadata.name)).toEqual(['web-bbbbb', 'web-ccccc']);
  });

  it("gives an agent's node watch the bind as ADDED, then changes and the deletion, via the store's field index", async () => {
    h = await startHarness();
    const watchSpy = vi.spyOn(h.store, 'watch');
    const client = await listen(h, await h.node('n1'));
    const ac = new AbortController();
    const events = take(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1' }, ac.signal), 4, ac);
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    expect(watchSpy.mock.calls[0]?.[0]).toMatchObject({ kind: 'Instance', field: { path: 'spec.node', value: 'n1' } });

    const a = await h.store.create<Instance>(anInstance('web-aaaaa'));
    const b = await h.store.create<Instance>(anInstance('web-bbbbb'));
    const bind = (i: Instance, node: string): Instance => ({ ...i, spec: { ...i.spec, node } });
    const aBound = await h.store.update(bind(a, 'n1'));
    await h.store.update(bind(b, 'n2'));
    const aRunning = await h.store.update({ ...aBound, status: { phase: 'Running' as const, ready: true, containers: [] } });
    await h.store.update(bind(aRunning, 'n3')); // moved away: leaves the selection
    const c = await h.store.create(anInstance('web-ccccc', { node: 'n1' }));
    await h.store.delete('Instance', 'default', 'web-bbbbb');
    const cGone = await h.store.delete('Instance', 'default', 'web-ccccc');

    expect((await events).map((e) => [e.type, e.object?.metadata.name, (e.object?.spec as { node?: string } | undefined)?.node, e.revision])).toEqual([
      ['ADDED', 'web-aaaaa', 'n1', aBound.metadata.revision],
      ['MODIFIED', 'web-aaaaa', 'n1', aRunning.metadata.revision],
      ['DELETED', 'web-aaaaa', 'n1', aRunning.metadata.revision + 1],
      ['ADDED', 'web-ccccc', 'n1', c.metadata.revision],
    ]);
    expect(cGone.metadata.revision).toBeGreaterThan(c.metadata.revision);
  });

  it("leaves a node's own status reports out of its watch with omitStatusChanges, and moves bookmarks past them", async () => {
    h = await startHarness({ bookmarkIntervalMs: 50 });
    const client = await listen(h, await h.node('n1'));
    const ac = new AbortController();
    const seen: ClientWatchEvent[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    let waitFor = Infinity;
    const reading = (async () => {
      for await (const ev of client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1', omitStatusChanges: true }, ac.signal)) {
        if (ev.type !== 'BOOKMARK') seen.push(ev);
        else if (ev.revision >= waitFor) done();
      }
    })();
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    const a = await h.store.create<Instance>(anInstance('web-aaaaa', { node: 'n1' }));
    const running = await h.store.update<Instance>({ ...a, status: { phase: 'Running', ready: true, containers: [] } });
    const stopping = await h.store.update<Instance>({ ...running, spec: { ...running.spec, stop: { at: '2026-12-06T00:00:00.000Z', reason: 'test' } } });
    const labelled = await h.store.update<Instance>({ ...stopping, metadata: { ...stopping.metadata, labels: { x: 'y' } } });
    const notReady = await h.store.update<Instance>({ ...labelled, status: { phase: 'Running', ready: false, containers: [] } });
    waitFor = notReady.metadata.revision;
    await finished;
    ac.abort();
    await reading;
    expect(seen.map((e) => [e.type, e.revision])).toEqual([
      ['ADDED', a.metadata.revision],
      ['MODIFIED', stopping.metadata.revision],
      ['MODIFIED', labelled.metadata.revision],
    ]);
    // Without the flag the same changes all come, the status reports too.
    const all = new AbortController();
    const replay = await take(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1', fromRevision: a.metadata.revision - 1 }, all.signal), 5, all);
    expect(replay.map((e) => e.revision)).toEqual([a, running, stopping, labelled, notReady].map((i) => i.metadata.revision));
  });

  it('refuses an omitStatusChanges that is not 1 or 0', async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/instances?watch=1&omitStatusChanges=yes`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('omitStatusChanges');
  });

  it('applies the selectors the store did not take on top of its field selection', async () => {
    h = await startHarness();
    const client = await listen(h, await h.node('n1'));
    const ac = new AbortController();
    const events = take(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1,spec.service=api' }, ac.signal), 1, ac);
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    await h.store.create(anInstance('web-aaaaa', { service: 'web', node: 'n1' }));
    await h.store.create(anInstance('api-bbbbb', { service: 'api', node: 'n2' }));
    await h.store.create(anInstance('api-ccccc', { service: 'api', node: 'n1' }));
    expect((await events).map((e) => e.object?.metadata.name)).toEqual(['api-ccccc']);
  });

  it('stops the store watch when the client goes away', async () => {
    h = await startHarness();
    const client = await listen(h);
    const ac = new AbortController();
    const iterating = (async () => {
      for await (const _ of client.watch({ kind: 'Service' }, ac.signal)) void _;
    })();
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    ac.abort();
    await iterating;
    await until(() => h.store.watchCount === TOKEN_WATCH);
    // An aborting client leaves a fresh keep-alive socket behind; close must not wait for it.
    const started = Date.now();
    await h.app.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('lets app.close() end open watches instead of hanging', async () => {
    h = await startHarness();
    const client = await listen(h);
    const ac = new AbortController();
    const seen: ClientWatchEvent[] = [];
    const iterating = (async () => {
      for await (const ev of client.watch({ kind: 'Service' }, ac.signal)) seen.push(ev);
    })();
    await until(() => h.store.watchCount === TOKEN_WATCH + 1);
    const started = Date.now();
    await h.app.close();
    await iterating; // the stream ended: the client's loop finished on its own
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.store.watchCount).toBe(0);
    ac.abort();
  });
});
