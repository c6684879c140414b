import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../store/sqlite-store.js';
import { gcEvents, recordEvent } from './event-recorder.js';
import { TestClock, aStore } from './test-builders.js';

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
    expect(await gcEvents(store, 3_600_000, clock.date())).toBe(1);
    expect((await store.list('Event')).items.map((e) => e.spec.reason)).toEqual(['Young']);
  });
});
