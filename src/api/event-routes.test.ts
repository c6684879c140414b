import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventRecorder } from '../runtime/event-recorder.js';
import { startHarness, type Harness } from './test-helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const anEvent = (over: Record<string, unknown> = {}) => ({
  involved: { kind: 'Instance', namespace: 'default', name: 'web-abcde' },
  type: 'Normal',
  reason: 'Started',
  message: 'started container web (id 1a2b3c4d5e6f)',
  ...over,
});

type ErrorBody = { error: { code: string; details: { path: string; message: string }[] } };

describe('POST /api/v1/events', () => {
  it('records an agent batch, aggregating repeats, with the source it names', async () => {
    h = await startHarness();
    const crash = anEvent({ type: 'Warning', reason: 'BackOff', message: 'container web exited with code 137; restarting in 1s (restart 1)' });
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/events',
      token: await h.node('n1'),
      payload: { source: 'agent/node-1', items: [anEvent(), crash, anEvent({ involved: { kind: 'Node', name: 'n1' }, reason: 'Registered', message: 'registered' })] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ recorded: 3 });
    await h.call({ method: 'POST', url: '/api/v1/events', token: await h.node('n1'), payload: { items: [crash] } });

    const events = (await h.store.list('Event')).items;
    expect(events).toHaveLength(3);
    const backoff = events.find((e) => e.spec.reason === 'BackOff');
    expect(backoff?.spec).toMatchObject({ type: 'Warning', count: 2, source: 'agent/node-1', involved: { kind: 'Instance', namespace: 'default', name: 'web-abcde' } });
    const node = events.find((e) => e.spec.reason === 'Registered');
    expect(node?.metadata.namespace).toBe('default');
    expect(node?.spec.involved).toEqual({ kind: 'Node', name: 'n1' });
  });

  it('says agent when the batch names no source', async () => {
    h = await startHarness();
    await h.call({ method: 'POST', url: '/api/v1/events', token: await h.node('n1'), payload: { items: [anEvent()] } });
    expect((await h.store.list('Event')).items[0]?.spec.source).toBe('agent');
  });

  it('uses the recorder it was given (shared with the controllers)', async () => {
    const { openSqliteStore } = await import('../store/sqlite-store.js');
    const store = openSqliteStore(':memory:');
    const events = new EventRecorder(store);
    const recordAll = vi.spyOn(events, 'recordAll');
    h = await startHarness({ store, events });
    await h.call({ method: 'POST', url: '/api/v1/events', token: await h.node('n1'), payload: { items: [anEvent(), anEvent()] } });
    expect(recordAll).toHaveBeenCalledTimes(1);
    expect((await store.list('Event')).items[0]?.spec.count).toBe(2);
  });

  it('is 403 for an admin token: events are written by Gantry', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/events', payload: { items: [anEvent()] } });
    expect(res.statusCode).toBe(403);
    expect(res.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    expect((await h.store.list('Event')).items).toHaveLength(0);
  });

  it('is 422 with a path per bad field, and records nothing of the batch', async () => {
    h = await startHarness();
    const items = [
      anEvent(),
      anEvent({ type: 'Info' }),
      anEvent({ reason: 'not camel case' }),
      anEvent({ message: '' }),
      anEvent({ extra: 1 }),
      { involved: { kind: 'Instance', name: 'web-abcde' }, type: 'Normal', message: 'no reason' },
    ];
    const res = await h.call({ method: 'POST', url: '/api/v1/events', token: await h.node('n1'), payload: { items } });
    expect(res.statusCode).toBe(422);
    const paths = res.json<ErrorBody>().error.details.map((d) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(['items[1].type', 'items[2].reason', 'items[3].message', 'items[4].extra', 'items[5].reason']),
    );
    expect(paths.some((p) => p.startsWith('items[0]'))).toBe(false);
    expect((await h.store.list('Event')).items).toHaveLength(0);
  });

  it('is 422 for more than 1,000 items', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/events', token: await h.node('n1'), payload: { items: Array.from({ length: 1001 }, () => anEvent()) } });
    expect(res.statusCode).toBe(422);
    expect(res.json<ErrorBody>().error.details.map((d) => d.path)).toEqual(['items']);
  });
});
