// BOOKMARKs of idle watches carry the store's revision, so a watch that sees few events of its own
// kind still resumes from a recent revision; and a bookmark never claims a revision whose matching
// events it has not sent.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { ClientWatchEvent, GantryClient } from '../client/types.js';
import { startHarness, type Harness } from './test-helpers.js';
import { aNode, aService, anInstance } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function listen(): Promise<GantryClient> {
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  return createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token: await h.node('n1') });
}

/** Collects a watch's lines until `stop` says so (checked after each line). */
async function collect(it: AsyncIterable<ClientWatchEvent>, ac: AbortController, stop: (seen: ClientWatchEvent[]) => boolean): Promise<ClientWatchEvent[]> {
  const seen: ClientWatchEvent[] = [];
  for await (const ev of it) {
    seen.push(ev);
    if (stop(seen)) break;
  }
  ac.abort();
  return seen;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);

describe('watch bookmarks', () => {
  it('carry the store revision when idle, so writes to other kinds move the resume point', async () => {
    h = await startHarness({ bookmarkIntervalMs: 30 });
    const client = await listen();
    const from = await h.store.currentRevision();
    // Only other kinds change now, as when an agent's own node heartbeats.
    await h.store.create(aNode('n1'));
    await h.store.create(aNode('n2'));
    const now = await h.store.currentRevision();
    expect(now).toBe(from + 2);
    const ac = new AbortController();
    const seen = await withTimeout(
      collect(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1', fromRevision: from }, ac.signal), ac, (s) => s.some((e) => e.type === 'BOOKMARK')),
      3000,
    );
    expect(seen).toEqual([{ type: 'BOOKMARK', revision: now }]);
  });

  it('never send a bookmark ahead of a matching event, under a stream of writes of every kind', async () => {
    h = await startHarness({ bookmarkIntervalMs: 1 });
    const client = await listen();
    const from = await h.store.currentRevision();
    const ac = new AbortController();
    let finalRevision = Number.POSITIVE_INFINITY;
    const watching = collect(client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1', fromRevision: from }, ac.signal), ac, (seen) =>
      seen.some((e) => e.type === 'BOOKMARK' && e.revision >= finalRevision),
    );
    const wanted: string[] = [];
    for (let i = 0; i < 60; i++) {
      const node = i % 3 === 0 ? 'n1' : 'n2';
      await h.store.create(anInstance(`web-${String(i).padStart(5, '0')}`, { node }));
      if (node === 'n1') wanted.push(`web-${String(i).padStart(5, '0')}`);
      await h.store.create(aService(`svc-${i}`));
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 3)); // let bookmarks in between
    }
    finalRevision = await h.store.currentRevision();
    const seen = await withTimeout(watching, 5000);
    const events = seen.filter((e) => e.type !== 'BOOKMARK');
    expect(events.map((e) => e.object?.metadata.name)).toEqual(wanted);
    expect(seen.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThan(1);
    // Revisions never go back, and no event arrives at or below a bookmark already sent.
    let bookmark = from;
    let last = from;
    for (const e of seen) {
      expect(e.revision).toBeGreaterThanOrEqual(last);
      if (e.type === 'BOOKMARK') bookmark = e.revision;
      else expect(e.revision).toBeGreaterThan(bookmark);
      last = e.revision;
    }
  });

  it('keep the last sent revision while a slow reader holds the stream back', async () => {
    h = await startHarness({ bookmarkIntervalMs: 1 });
    const client = await listen();
    const from = await h.store.currentRevision();
    const big = 'x'.repeat(512 * 1024);
    const ac = new AbortController();
    const seen: ClientWatchEvent[] = [];
    const reading = (async () => {
      for await (const ev of client.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1', fromRevision: from }, ac.signal)) {
        seen.push(ev);
        if (seen.filter((e) => e.type !== 'BOOKMARK').length === 12) break;
        if (ev.type !== 'BOOKMARK') await new Promise((r) => setTimeout(r, 15)); // a slow consumer: the server blocks on drain
      }
      ac.abort();
    })();
    for (let i = 0; i < 12; i++) {
      const inst = anInstance(`web-${String(i).padStart(5, '0')}`, { node: 'n1' });
      await h.store.create({ ...inst, metadata: { ...inst.metadata, annotations: { pad: big } } });
      await h.store.create(aService(`svc-${i}`));
    }
    await withTimeout(reading, 10_000);
    let bookmark = from;
    for (const e of seen) {
      if (e.type === 'BOOKMARK') bookmark = Math.max(bookmark, e.revision);
      else expect(e.revision, `${e.object?.metadata.name} after bookmark ${bookmark}`).toBeGreaterThan(bookmark);
    }
  });
});
