import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GantryEvent } from '../core/index.js';
import { anInstance } from '../core/test-builders.js';
import { aStore, quietLogger } from '../controllers/shared/test-builders.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { EventCorrelator } from './event-correlator.js';
import { EventRecorder, type EventInput } from './event-recorder.js';

let store: SqliteStore;
let correlator: EventCorrelator | undefined;
afterEach(async () => {
  await correlator?.close();
  correlator = undefined;
  await store.close();
});

/** `count` instances of `service` in namespace prod, named `<service>-<i>`. */
async function instancesOf(service: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${service}-${i}`);
  for (const name of names) await store.create(anInstance(name, { namespace: 'prod', service }));
  return names;
}

const started = (name: string, type: EventInput['type'] = 'Normal'): EventInput => ({
  involved: { kind: 'Instance', namespace: 'prod', name },
  type,
  reason: 'Started',
  message: `started container main of ${name}`,
});

async function events(): Promise<GantryEvent[]> {
  return (await store.list('Event')).items;
}

function setUp(opts: { now?: () => number; holdMs?: number } = {}): EventCorrelator {
  store = aStore();
  correlator = new EventCorrelator(new EventRecorder(store), store, { logger: quietLogger(), holdMs: opts.holdMs ?? 60_000, now: opts.now });
  return correlator;
}

describe('EventCorrelator', () => {
  it('records the first ten similar events on their instances and folds the rest into one on the service', async () => {
    const c = setUp();
    const names = await instancesOf('web', 30);
    // From three nodes, in batches of one or two, as agents send them during a rollout.
    for (let i = 0; i < names.length; i += 2) await c.recordAll([started(names[i]!), started(names[i + 1]!)], `agent/node-${i % 3}`);
    expect(await events()).toHaveLength(10);
    expect(c.heldCount).toBe(20);
    await c.flush();
    const all = await events();
    expect(all).toHaveLength(11);
    expect(all.filter((e) => e.spec.involved.kind === 'Instance').map((e) => e.spec.involved.name)).toEqual(names.slice(0, 10));
    const combined = all.find((e) => e.spec.involved.kind === 'Service')!;
    expect(combined.spec).toMatchObject({ involved: { kind: 'Service', namespace: 'prod', name: 'web' }, type: 'Normal', reason: 'Started', source: 'agents', count: 1 });
    expect(combined.spec.message).toBe('20 instances (web-10, web-11, web-12, web-13, web-14 and 15 more); web-10: started container main of web-10');
  });

  it('writes the held events by itself once the hold time has passed', async () => {
    const c = setUp({ holdMs: 20 });
    const names = await instancesOf('web', 13);
    await c.recordAll(names.map((n) => started(n)), 'agent/node-1');
    expect(c.heldCount).toBe(3);
    await expect.poll(async () => (await events()).length).toBe(11);
    const combined = (await events()).find((e) => e.spec.involved.kind === 'Service');
    expect(combined?.spec).toMatchObject({ source: 'agent/node-1', message: '3 instances (web-10, web-11, web-12); web-10: started container main of web-10' });
    expect(c.heldCount).toBe(0);
  });

  it('writes one held event as itself, not as a fold of one', async () => {
    const c = setUp();
    const names = await instancesOf('web', 11);
    await c.recordAll(names.map((n) => started(n)), 'agent/node-1');
    await c.flush();
    const all = await events();
    expect(all).toHaveLength(11);
    expect(all.every((e) => e.spec.involved.kind === 'Instance')).toBe(true);
  });

  it('never holds warnings, other reasons count apart, and other services count apart', async () => {
    const c = setUp();
    const web = await instancesOf('web', 12);
    const api = await instancesOf('api', 5);
    await c.recordAll(web.map((n) => started(n, 'Warning')), 'agent/node-1');
    await c.recordAll(api.map((n) => started(n)), 'agent/node-1');
    await c.recordAll(web.map((n) => ({ ...started(n), reason: 'Pulled' })).slice(0, 10), 'agent/node-1');
    expect(c.heldCount).toBe(0);
    expect(await events()).toHaveLength(12 + 5 + 10);
  });

  it('passes events about objects that are not a stored service instance straight through', async () => {
    const c = setUp();
    const gone = Array.from({ length: 15 }, (_, i) => started(`gone-${i}`));
    const nodes = Array.from({ length: 15 }, (_, i): EventInput => ({ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'Ready', message: `ready ${i}` }));
    await c.recordAll([...gone, ...nodes], 'agent/node-1');
    expect(c.heldCount).toBe(0);
    expect(await events()).toHaveLength(30);
  });

  it('records similar events one by one again once the window has passed', async () => {
    let now = 1_000_000;
    const c = setUp({ now: () => now });
    const names = await instancesOf('web', 12);
    await c.recordAll(names.slice(0, 10).map((n) => started(n)), 'agent/node-1');
    now += 10 * 60_000;
    await c.recordAll(names.slice(10).map((n) => started(n)), 'agent/node-1');
    expect(c.heldCount).toBe(0);
    expect(await events()).toHaveLength(12);
  });

  it('takes back what a batch held when its direct write fails, so the batch sent again is not stored twice', async () => {
    store = aStore();
    const recorder = new EventRecorder(store);
    const c = (correlator = new EventCorrelator(recorder, store, { logger: quietLogger(), holdMs: 60_000 }));
    const names = await instancesOf('web', 12);
    const batch = names.map((n) => started(n));
    vi.spyOn(recorder, 'recordAll').mockRejectedValueOnce(new Error('disk I/O error'));
    await expect(c.recordAll(batch, 'agent/node-1')).rejects.toThrow('disk I/O error');
    expect(c.heldCount).toBe(0);
    await c.recordAll(batch, 'agent/node-1');
    await c.flush();
    const all = await events();
    expect(all).toHaveLength(11);
    expect(all.find((e) => e.spec.involved.kind === 'Service')?.spec.message).toBe('2 instances (web-10, web-11); web-10: started container main of web-10');
  });

  it('writes what it holds on close and records later events at once', async () => {
    const c = setUp();
    const names = await instancesOf('web', 14);
    await c.recordAll(names.slice(0, 12).map((n) => started(n)), 'agent/node-1');
    await c.close();
    expect(await events()).toHaveLength(11);
    await c.recordAll(names.slice(12).map((n) => started(n)), 'agent/node-1');
    expect(c.heldCount).toBe(0);
    expect(await events()).toHaveLength(13);
  });
});
