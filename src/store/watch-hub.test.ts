import { describe, expect, it } from 'vitest';
import { API_VERSION, isAppError } from '../core/index.js';
import type { AnyObject, Kind } from '../core/index.js';
import type { WatchEvent } from './store.js';
import { WatchHub, type WatchHubOptions } from './watch-hub.js';
import { range, revisionsOf, take } from './test-helpers.js';

function anEvent(revision: number, kind: Kind = 'Service', namespace: string | undefined = 'default'): WatchEvent {
  const object = {
    apiVersion: API_VERSION,
    kind,
    metadata: { name: `o${revision}`, namespace, uid: `u${revision}`, revision, createdAt: '2030-01-01T00:00:00Z' },
    spec: {},
  } as unknown as AnyObject;
  return { type: 'ADDED', revision, object };
}

function aHub(opts: Partial<WatchHubOptions> = {}): WatchHub {
  return new WatchHub({ revision: 0, history: [], historyLimit: 100, maxBuffered: 1_000, ...opts });
}

const forever = () => new AbortController().signal;

describe('WatchHub', () => {
  it('marks a MODIFIED statusOnly when every part but status and the revision is the very same (shared) object', async () => {
    const hub = aHub();
    const watch = hub.watch({ fromRevision: 0 }, forever());
    const first = anEvent(1).object;
    const withStatus = (o: AnyObject, revision: number, status: unknown): AnyObject => ({ ...o, metadata: { ...o.metadata, revision }, status }) as AnyObject;
    const reported = withStatus(first, 2, { phase: 'Running' });
    const respec = { ...withStatus(reported, 3, { phase: 'Running', ready: true }), spec: { replicas: 2 } } as AnyObject;
    const copied = JSON.parse(JSON.stringify(withStatus(respec, 4, { phase: 'Failed' }))) as AnyObject;
    const relabelled = { ...withStatus(respec, 5, { phase: 'Gone' }), metadata: { ...respec.metadata, revision: 5, labels: { a: 'b' } } } as AnyObject;
    hub.publish([{ type: 'ADDED', revision: 1, object: first }]);
    hub.publish([{ type: 'MODIFIED', revision: 2, object: reported, prev: first }]);
    hub.publish([{ type: 'MODIFIED', revision: 3, object: respec, prev: reported }]);
    hub.publish([{ type: 'MODIFIED', revision: 4, object: copied, prev: respec }]);
    hub.publish([{ type: 'MODIFIED', revision: 5, object: relabelled, prev: copied }]);
    expect((await take(watch, 5)).map((e) => e.statusOnly ?? false)).toEqual([false, true, false, false, false]);
  });

  it('keeps only the last historyLimit changes, across compactions of its buffer', async () => {
    const hub = aHub({ historyLimit: 3 });
    for (let r = 1; r <= 10; r++) hub.publish([anEvent(r)]);
    expect(hub.oldestRevision).toBe(8);
    expect(revisionsOf(await take(hub.watch({ fromRevision: 7 }, forever()), 3))).toEqual([8, 9, 10]);
    expect(revisionsOf(await take(hub.watch({ fromRevision: 9 }, forever()), 1))).toEqual([10]);
    const err = await take(hub.watch({ fromRevision: 6 }, forever()), 1).catch((e: unknown) => e);
    expect(isAppError(err, 'EXPIRED')).toBe(true);
  });

  it('resumes from history it was loaded with (a reopened store)', async () => {
    const hub = aHub({ revision: 5, history: [anEvent(4), anEvent(5)] });
    expect(revisionsOf(await take(hub.watch({ fromRevision: 3 }, forever()), 2))).toEqual([4, 5]);
    await expect(take(hub.watch({ fromRevision: 2 }, forever()), 1)).rejects.toThrow(/too old/);
  });

  it('treats a hub without history as able to serve exactly from its revision', async () => {
    const hub = aHub({ revision: 7 });
    const w = hub.watch({ fromRevision: 7 }, forever());
    hub.publish([anEvent(8)]);
    expect(revisionsOf(await take(w, 1))).toEqual([8]);
    await expect(take(hub.watch({ fromRevision: 6 }, forever()), 1)).rejects.toThrow(/EXPIRED|too old/);
  });

  it('skips changes up to a fromRevision that lies in the future', async () => {
    const hub = aHub();
    const w = hub.watch({ fromRevision: 2 }, forever());
    hub.publish([anEvent(1), anEvent(2), anEvent(3)]);
    expect(revisionsOf(await take(w, 1))).toEqual([3]);
  });

  it('answers EXPIRED to a fromRevision in the future when told to (one writer: that revision was never its own)', async () => {
    const hub = aHub({ revision: 2, expireFutureRevisions: true });
    await expect(take(hub.watch({ fromRevision: 3 }, forever()), 1)).rejects.toThrow(/ahead of the store \(now 2\)/);
    const w = hub.watch({ fromRevision: 2 }, forever());
    hub.publish([anEvent(3)]);
    expect(revisionsOf(await take(w, 1))).toEqual([3]);
  });

  it('routes events by kind and namespace to the watchers that asked', async () => {
    const hub = aHub();
    const services = hub.watch({ kind: 'Service' }, forever());
    const nodes = hub.watch({ kind: 'Node' }, forever());
    const everything = hub.watch({}, forever());
    const inB = hub.watch({ namespace: 'b' }, forever());
    hub.publish([anEvent(1, 'Node', undefined), anEvent(2, 'Service', 'a'), anEvent(3, 'Service', 'b')]);
    expect(revisionsOf(await take(services, 2))).toEqual([2, 3]);
    expect(revisionsOf(await take(nodes, 1))).toEqual([1]);
    expect(revisionsOf(await take(everything, 3))).toEqual([1, 2, 3]);
    expect(revisionsOf(await take(inB, 1))).toEqual([3]);
  });

  it('forgets a watcher whose consumer stops reading (break in for-await)', async () => {
    const hub = aHub();
    const w = hub.watch({}, forever());
    hub.publish([anEvent(1), anEvent(2)]);
    expect(hub.watcherCount).toBe(1);
    await take(w, 1);
    expect(hub.watcherCount).toBe(0);
  });

  it('ends a watcher whose replay alone exceeds its buffer bound with EXPIRED', async () => {
    const hub = aHub({ maxBuffered: 5 });
    hub.publish(range(1, 20).map((r) => anEvent(r)));
    await expect(take(hub.watch({ fromRevision: 0 }, forever()), 1)).rejects.toThrow(/list again/);
    expect(hub.watcherCount).toBe(0);
  });

  it('ends a live watcher holding more than maxBufferedBytes of unread changes, and keeps one that reads', async () => {
    const hub = aHub({ maxBufferedBytes: 10_000 });
    const lagging = hub.watch({}, forever());
    const reading = hub.watch({}, forever());
    const seen: number[] = [];
    for (let r = 1; r <= 10; r++) {
      hub.publish([{ ...anEvent(r), bytes: 2_000 }]);
      seen.push(((await reading.next()).value as WatchEvent).revision);
    }
    expect(seen).toEqual(range(1, 10));
    // The lagging one had 5 unread (10,000 bytes), then a sixth: over.
    await expect(lagging.next()).rejects.toThrow("watch of all objects fell more than 10000 bytes of changes behind at revision 6: list again and watch from the list's revision");
    expect(hub.watcherCount).toBe(1);
  });

  it('counts bytes down as a watcher reads, and not the replay of a resume from far back', async () => {
    const hub = aHub({ maxBufferedBytes: 10_000 });
    const w = hub.watch({}, forever());
    const read = async (n: number) => { const out: number[] = []; for (let i = 0; i < n; i++) out.push(((await w.next()).value as WatchEvent).revision); return out; };
    for (let r = 1; r <= 4; r++) hub.publish([{ ...anEvent(r), bytes: 2_000 }]);
    expect(await read(3)).toEqual([1, 2, 3]);
    // 4 unread, then 4 more: 5 unread at most (10,000 bytes) if the three read were counted down.
    for (let r = 5; r <= 8; r++) hub.publish([{ ...anEvent(r), bytes: 2_000 }]);
    expect(await read(5)).toEqual([4, 5, 6, 7, 8]);
    // 16,000 bytes of history replayed: resumes, then lags live.
    const resumed = hub.watch({ fromRevision: 0 }, forever());
    expect(revisionsOf(await take(hub.watch({ fromRevision: 0 }, forever()), 8))).toEqual(range(1, 8));
    for (let r = 9; r <= 14; r++) hub.publish([{ ...anEvent(r), bytes: 2_000 }]);
    await expect(take(resumed, 20)).rejects.toThrow(/fell more than 10000 bytes of changes behind at revision 14/);
  });

  it('ends every watcher on close, and any later watch at once', async () => {
    const hub = aHub();
    const a = hub.watch({}, forever());
    const b = hub.watch({ kind: 'Node' }, forever());
    const pending = a.next();
    hub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await b.next()).toEqual({ done: true, value: undefined });
    expect(await take(hub.watch({}, forever()), 1)).toEqual([]);
    expect(hub.watcherCount).toBe(0);
  });

  it('delivers events published while the consumer waits, in order', async () => {
    const hub = aHub();
    const w = hub.watch({}, forever());
    const first = w.next();
    hub.publish([anEvent(1), anEvent(2)]);
    expect((await first).value).toMatchObject({ revision: 1 });
    expect((await w.next()).value).toMatchObject({ revision: 2 });
  });
});

describe('WatchHub with transactions (several changes at one revision)', () => {
  it('replays from a revision inside the kept history, and refuses one whose changes were cut in part', async () => {
    const history = [anEvent(1), anEvent(2), anEvent(2), anEvent(3)];
    // Keep the last two: one of revision 2's changes is gone, so revision 2 is not whole.
    const hub = aHub({ revision: 3, history, historyLimit: 2 });
    const ac = new AbortController();
    expect(revisionsOf(await take(hub.watch({ fromRevision: 2 }, ac.signal), 1))).toEqual([3]);
    const err = await take(hub.watch({ fromRevision: 1 }, ac.signal), 1).catch((e: unknown) => e);
    expect(isAppError(err, 'EXPIRED')).toBe(true);
    // Kept whole, revision 2 replays both of its changes.
    const whole = aHub({ revision: 3, history, historyLimit: 3 });
    expect(revisionsOf(await take(whole.watch({ fromRevision: 1 }, ac.signal), 3))).toEqual([2, 2, 3]);
    ac.abort();
  });
  it('hands a store writing its history at close only whole revisions (a transaction cut by the trim is left out)', async () => {
    const history = [anEvent(1), anEvent(2), anEvent(2), anEvent(3)];
    expect(revisionsOf(aHub({ revision: 3, history, historyLimit: 2 }).replayableHistory())).toEqual([3]);
    expect(revisionsOf(aHub({ revision: 3, history, historyLimit: 3 }).replayableHistory())).toEqual([2, 2, 3]);
    const live = aHub({ historyLimit: 3 });
    live.publish([anEvent(1), anEvent(1)]);
    live.publish([anEvent(2), anEvent(2)]);
    expect(revisionsOf(live.replayableHistory())).toEqual([2, 2]);
    // What it hands over replays as the hub did: reloaded, the same watch resumes.
    const reloaded = aHub({ revision: 2, history: live.replayableHistory(), historyLimit: 3 });
    const ac = new AbortController();
    expect(revisionsOf(await take(reloaded.watch({ fromRevision: 1 }, ac.signal), 2))).toEqual([2, 2]);
    const err = await take(reloaded.watch({ fromRevision: 0 }, ac.signal), 1).catch((e: unknown) => e);
    expect(isAppError(err, 'EXPIRED')).toBe(true);
    ac.abort();
  });

  it('hands over only the changes published within maxAgeMs, a tail of whole transactions; loaded ones count from the load', () => {
    let now = 0;
    const hub = aHub({ historyLimit: 100, now: () => now });
    hub.publish([anEvent(1)]);
    now = 30_000;
    hub.publish([anEvent(2), anEvent(2)]);
    now = 90_000;
    hub.publish([anEvent(3)]);
    now = 100_000;
    expect(revisionsOf(hub.replayableHistory(60_000))).toEqual([3]);
    expect(revisionsOf(hub.replayableHistory(70_000))).toEqual([2, 2, 3]);
    expect(revisionsOf(hub.replayableHistory())).toEqual([1, 2, 2, 3]);
    // A clock stepped back does not open a gap: the tail stops at the first entry older than the bound.
    now = 20_000;
    hub.publish([anEvent(4)]);
    now = 95_000;
    expect(revisionsOf(hub.replayableHistory(10_000))).toEqual([]);
    // History loaded at open is as old as the load: a second restart soon after keeps it.
    const reloaded = aHub({ revision: 3, history: [anEvent(2), anEvent(2), anEvent(3)], historyLimit: 100, now: () => 500_000 });
    expect(revisionsOf(reloaded.replayableHistory(60_000))).toEqual([2, 2, 3]);
  });
});
