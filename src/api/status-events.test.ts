// Events riding on an agent's status report (POST /api/v1/status/instances with `events`): recorded
// like a batch of their own, held to the same node rules, and never in the way of the status.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import { STATUS_EVENTS_HEADER } from '../core/index.js';
import { aRunningStatus, startHarness, type Harness } from './test-helpers.js';
import { DEFAULT_LIMITS } from './limits.js';
import { anInstance } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const started = (name: string) => ({ involved: { kind: 'Instance', namespace: 'default', name }, type: 'Normal', reason: 'Started', message: `started container web of ${name}` });
const report = (name: string) => ({ namespace: 'default', name, status: aRunningStatus() });
type Answer = { results: { ok: boolean }[]; events?: { recorded: number; retryAfterSeconds?: number } };
type ErrorBody = { error: { code: string; message: string; details?: { path: string }[] } };

describe('events on a status report', () => {
  it('says on every status answer that it takes events there, and records those sent with the source given', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const token = await h.node('n1');
    const alone = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [report('web-aaaaa')] } });
    expect(alone.statusCode).toBe(200);
    expect(alone.headers[STATUS_EVENTS_HEADER]).toBe('1');
    expect(alone.json<Answer>().events).toBeUndefined();

    const res = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [], events: [started('web-aaaaa')], source: 'agent/n1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json<Answer>()).toEqual({ results: [], events: { recorded: 1 } });
    const events = (await h.store.list('Event')).items;
    expect(events.map((e) => [e.spec.reason, e.spec.source, e.spec.involved.name])).toEqual([['Started', 'agent/n1', 'web-aaaaa']]);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).toBe('Running');
  });

  it("refuses, as the events route does, events about another node's instance (403) and bad events (422 with their paths), writing nothing", async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    await h.store.create(anInstance('web-bbbbb', { node: 'n2' }));
    const token = await h.node('n1');
    const foreign = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [report('web-aaaaa')], events: [started('web-bbbbb')] } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json<ErrorBody>().error.message).toContain('events[0]');
    const bad = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [report('web-aaaaa')], events: [started('web-aaaaa'), { ...started('web-aaaaa'), type: 'Info' }] } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<ErrorBody>().error.details?.map((d) => d.path)).toEqual(['events[1].type']);
    expect((await h.store.list('Event')).items).toHaveLength(0);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).not.toBe('Running');
  });

  it('writes the status of a node over its event rate and turns only the events away, saying when to send them again', async () => {
    h = await startHarness({ limits: { ...DEFAULT_LIMITS, nodeEvents: { perSecond: 1, burst: 2 } } });
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const token = await h.node('n1');
    const events = [started('web-aaaaa'), started('web-aaaaa')];
    const first = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [], events } });
    expect(first.json<Answer>().events).toEqual({ recorded: 2 });
    const over = await h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [report('web-aaaaa')], events } });
    expect(over.statusCode).toBe(200);
    expect(over.json<Answer>()).toEqual({ results: [{ namespace: 'default', name: 'web-aaaaa', ok: true }], events: { recorded: 0, retryAfterSeconds: 2 } });
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).toBe('Running');
    expect((await h.store.list('Event')).items.map((e) => e.spec.count)).toEqual([2]);
  });

  it('refuses a report with more events than the node may send at once (422) before writing its statuses', async () => {
    h = await startHarness({ limits: { ...DEFAULT_LIMITS, nodeEvents: { perSecond: 1, burst: 2 } } });
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const res = await h.call({ method: 'POST', url: '/api/v1/status/instances', token: await h.node('n1'), payload: { items: [report('web-aaaaa')], events: [started('web-aaaaa'), started('web-aaaaa'), started('web-aaaaa')] } });
    expect(res.statusCode).toBe(422);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).not.toBe('Running');
  });

  it("tells the agents' client on each status answer whether events may ride along, and forgets it when a report is refused", async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    await h.store.create(anInstance('web-bbbbb', { node: 'n2' }));
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const client = createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token: await h.node('n1') });
    expect(client.statusTakesEvents).toBeUndefined();
    await client.reportInstanceStatus([report('web-aaaaa')]);
    expect(client.statusTakesEvents).toBe(true);
    const answer = await client.reportStatusWithEvents([report('web-aaaaa')], [started('web-aaaaa') as never], 'agent/n1');
    expect(answer.events).toEqual({ recorded: 1 });
    await expect(client.reportStatusWithEvents([], [started('web-bbbbb') as never])).rejects.toThrow(/events\[0\]/);
    expect(client.statusTakesEvents).toBeUndefined();
  });
});
