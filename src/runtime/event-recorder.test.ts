import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Service } from '../core/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { NewObject } from '../store/store.js';
import { DEFAULT_EVENT_RETENTION, EventRecorder, eventsToCollect, GC_DELETES_PER_TXN, gcEvents, recordEvent, type EventInput } from './event-recorder.js';
import { TestClock, aStore } from '../controllers/shared/test-builders.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const web = { kind: 'Instance', namespace: 'prod', name: 'web-abcde' };

describe('recordEvent', () => {
  it('creates an event in the involved object namespace, named after it', async () => {
    store = aStore();
    const e = await recordEvent(store, web, 'Warning', 'FailedScheduling', 'no node fits', 'scheduler');
    expect(e.metadata.namespace).toBe('prod');
    expect(e.metadata.name).toMatch(/^web-abcde\.[a-z0-9]+$/);
    expect(e.spec).toMatchObject({ involved: web, type: 'Warning', reason: 'FailedScheduling', count: 1, source: 'scheduler' });
    const node = await recordEvent(store, { kind: 'Node', name: 'n1' }, 'Normal', 'NodeReady', 'back', 'node-controller');
    expect(node.metadata.namespace).toBe('default');
  });

  it('stamps the involved object’s uid, so a recreated object starts with its own events', async () => {
    store = aStore();
    const svc = (v: string): NewObject<Service> => ({ apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'hello', namespace: 'default', labels: { v } }, spec: { replicas: 1, containers: [{ name: 'web', image: 'x' }] } });
    const first = await store.create(svc('1'));
    const hello = { kind: 'Service', namespace: 'default', name: 'hello' };
    const recorder = new EventRecorder(store);
    const a = await recorder.record(hello, 'Normal', 'ScaledUp', 'scaled up v1 to 1', 'service-controller');
    expect(a.spec.involved.uid).toBe(first.metadata.uid);
    await store.delete('Service', 'default', 'hello');
    const second = await store.create(svc('2'));
    const b = await recorder.record(hello, 'Normal', 'ScaledUp', 'scaled up v1 to 1', 'service-controller');
    // Same name, reason and message: a new event for the new uid, not a bump of the old one.
    expect(b.metadata.name).not.toBe(a.metadata.name);
    expect(b.spec).toMatchObject({ count: 1, involved: { ...hello, uid: second.metadata.uid } });
  });

  it('aggregates repeats within ten minutes and starts a new event after', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const t0 = clock.date();
    await recordEvent(store, web, 'Warning', 'BackOff', 'crashed', 'agent', t0);
    clock.advance(5 * 60_000);
    const bumped = await recordEvent(store, web, 'Warning', 'BackOff', 'crashed', 'agent', clock.date());
    expect(bumped.spec.count).toBe(2);
    expect(bumped.spec.firstTime).toBe(t0.toISOString());
    expect(bumped.spec.lastTime).toBe(clock.date().toISOString());
    // Another message is another event.
    await recordEvent(store, web, 'Warning', 'BackOff', 'crashed again', 'agent', clock.date());
    expect((await store.list('Event')).items).toHaveLength(2);

    clock.advance(10 * 60_000 + 1);
    const fresh = await recordEvent(store, web, 'Warning', 'BackOff', 'crashed', 'agent', clock.date());
    expect(fresh.spec.count).toBe(1);
    expect((await store.list('Event')).items).toHaveLength(3);
  });

  it('gcEvents deletes events older than the age limit only', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await recordEvent(store, web, 'Normal', 'Old', 'a', 'test', clock.date());
    clock.advance(50 * 60_000);
    await recordEvent(store, web, 'Normal', 'Young', 'b', 'test', clock.date());
    clock.advance(11 * 60_000);
    expect(await gcEvents(store, DEFAULT_EVENT_RETENTION, clock.date())).toEqual({ deleted: 1, byAge: 1, byObject: 0, byCount: 0 });
    expect((await store.list('Event')).items.map((e) => e.spec.reason)).toEqual(['Young']);
  });

  it('gcEvents keeps at most maxPerObject per object and maxCount in all, deleting the oldest', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const recorder = new EventRecorder(store);
    // web-0 fails in new words each time (no aggregation): 30 events, a second apart.
    for (let i = 0; i < 30; i++) {
      await recorder.record({ kind: 'Instance', namespace: 'default', name: 'web-0' }, 'Warning', 'Failed', `attempt ${i}`, 'agent', clock.date());
      clock.advance(1000);
    }
    // 20 others, one event each, younger than all of web-0's.
    await recorder.recordAll(Array.from({ length: 20 }, (_, i): EventInput => ({ involved: { kind: 'Instance', namespace: 'default', name: `web-${i + 1}` }, type: 'Normal', reason: 'Started', message: 'started' })), 'agent', clock.date());
    const retention = { maxAgeMs: 3_600_000, maxCount: 25, maxPerObject: 10 };
    expect(await gcEvents(store, retention, clock.date())).toEqual({ deleted: 25, byAge: 0, byObject: 20, byCount: 5 });
    const left = (await store.list('Event')).items;
    expect(left).toHaveLength(25);
    // web-0 kept its 10 newest, then lost its 5 oldest of those to the total count.
    expect(left.filter((e) => e.spec.involved.name === 'web-0').map((e) => e.spec.message).sort()).toEqual(['attempt 25', 'attempt 26', 'attempt 27', 'attempt 28', 'attempt 29']);
    expect(await gcEvents(store, retention, clock.date())).toEqual({ deleted: 0, byAge: 0, byObject: 0, byCount: 0 });
  });

  it('eventsToCollect cuts inside a minute by time, and never counts an event twice', () => {
    const at = (name: string, lastTime: string) => ({ metadata: { name, namespace: 'default' }, spec: { involved: { kind: 'Instance', name: 'a' }, lastTime } }) as never;
    const items = [at('e3', '2026-12-06T00:01:30.000Z'), at('e1', '2026-12-06T00:01:10.000Z'), at('old', '2026-12-05T22:00:00.000Z'), at('e2', '2026-12-06T00:01:20.000Z'), at('e4', '2026-12-06T00:02:00.000Z')];
    const picked = eventsToCollect(items, { maxAgeMs: 3_600_000, maxCount: 2, maxPerObject: 3 }, Date.parse('2026-12-06T00:03:00.000Z'));
    const names = (l: readonly { metadata: { name: string } }[]) => l.map((e) => e.metadata.name);
    expect(names(picked.byAge)).toEqual(['old']);
    expect(names(picked.byObject)).toEqual(['e1']);
    expect(names(picked.byCount)).toEqual(['e2']);
  });

  it(`gcEvents deletes many in txns of ${GC_DELETES_PER_TXN}, and skips one bumped meanwhile`, async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const recorder = new EventRecorder(store);
    const many = Array.from({ length: 2500 }, (_, i): EventInput => ({ involved: { kind: 'Instance', namespace: 'default', name: `web-${i}` }, type: 'Normal', reason: 'Started', message: 'started' }));
    for (let start = 0; start < many.length; start += 1000) await recorder.recordAll(many.slice(start, start + 1000), 'agent', clock.date());
    clock.advance(61 * 60_000);
    // Between the list and the second txn, one old event of that chunk is bumped (young again).
    const realTxn = store.txn.bind(store);
    const txn = vi.spyOn(store, 'txn');
    let calls = 0;
    txn.mockImplementation(async (ops) => {
      if (++calls === 2) {
        const first = ops[0]!;
        if (first.op === 'delete') {
          const e = (await store.get('Event', first.namespace, first.name))!;
          await store.update({ ...e, spec: { ...e.spec, count: 2, lastTime: clock.date().toISOString() } });
        }
      }
      return realTxn(ops);
    });
    expect((await gcEvents(store, DEFAULT_EVENT_RETENTION, clock.date())).deleted).toBe(2499);
    const deleteTxns = txn.mock.calls.filter(([ops]) => ops.every((op) => op.op === 'delete'));
    expect(deleteTxns.map(([ops]) => ops.length)).toEqual([1000, 1000, 500]);
    expect((await store.list('Event')).items).toHaveLength(1);
  });
});

const crash = (name: string, message = 'container app exited with code 1'): EventInput => ({
  involved: { kind: 'Instance', namespace: 'prod', name },
  type: 'Warning',
  reason: 'BackOff',
  message,
});

describe('EventRecorder', () => {
  it('records a batch in one transaction, counting repeats within it, without listing', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const recorder = new EventRecorder(store, { now: clock.date });
    await recorder.record(web, 'Normal', 'Started', 'started container app', 'agent/n1');
    const list = vi.spyOn(store, 'list');
    const txn = vi.spyOn(store, 'txn');
    const stored = await recorder.recordAll([crash('a-1'), crash('a-2'), crash('a-1'), crash('a-1', 'other')], 'agent/n1');
    expect(txn).toHaveBeenCalledTimes(1);
    expect(list).not.toHaveBeenCalled();
    expect(stored.map((e) => e.spec.involved.name)).toEqual(['a-1', 'a-2', 'a-1', 'a-1']);
    expect(stored[0]).toBe(stored[2]);
    expect(stored[0]!.spec).toMatchObject({ count: 2, source: 'agent/n1' });
    expect((await store.list('Event', { namespace: 'prod' })).items).toHaveLength(4);
  });

  it('bumps an event recorded before it existed (after a restart), then through its index', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    await recordEvent(store, web, 'Warning', 'BackOff', 'crashed', 'agent', clock.date());
    const recorder = new EventRecorder(store, { now: clock.date });
    clock.advance(60_000);
    const list = vi.spyOn(store, 'list');
    expect((await recorder.record(web, 'Warning', 'BackOff', 'crashed', 'agent')).spec.count).toBe(2);
    expect((await recorder.record(web, 'Warning', 'BackOff', 'crashed', 'agent')).spec.count).toBe(3);
    expect(list).toHaveBeenCalledTimes(1); // the namespace, once
    expect((await store.list('Event')).items).toHaveLength(1);
  });

  it('creates a new event when the one it would bump was garbage-collected', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const recorder = new EventRecorder(store, { now: clock.date });
    const first = await recorder.record(web, 'Warning', 'BackOff', 'crashed', 'agent');
    await store.delete('Event', 'prod', first.metadata.name);
    const again = await recorder.record(web, 'Warning', 'BackOff', 'crashed', 'agent');
    expect(again.metadata.name).not.toBe(first.metadata.name);
    expect(again.spec.count).toBe(1);
  });

  it('never creates two events for concurrent repeats', async () => {
    store = aStore();
    const recorder = new EventRecorder(store);
    const all = await Promise.all(Array.from({ length: 20 }, () => recorder.record(web, 'Normal', 'Pulled', 'same', 'agent')));
    expect(new Set(all.map((e) => e.metadata.name)).size).toBe(1);
    const [only] = (await store.list('Event')).items;
    expect(only?.spec.count).toBe(20);
  });
});
