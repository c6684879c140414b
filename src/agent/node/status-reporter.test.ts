import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InstanceStatus } from '../../core/index.js';
import { ForbiddenError, InvalidError, UnavailableError } from '../../core/index.js';
import { EventReporter } from './event-reporter.js';
import { StatusReporter } from './status-reporter.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

const running = (restartCount = 0): InstanceStatus => ({
  phase: 'Running',
  ready: true,
  containers: [{ name: 'app', state: 'running', restartCount, hostPorts: {} }],
});

const reporters: StatusReporter[] = [];
function aReporter(client: FakeGantryClient, flushIntervalMs = 30): StatusReporter {
  const r = new StatusReporter({ client, logger: silentLogger(), flushIntervalMs });
  reporters.push(r);
  return r;
}
afterEach(async () => {
  for (const r of reporters.splice(0)) await r.stop();
});

describe('StatusReporter carrying events', () => {
  const setUp = (takes: boolean) => {
    const client = new FakeGantryClient();
    client.statusTakesEvents = takes;
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const events = new EventReporter({ client, logger: silentLogger(), source: 'agent/n1', flushIntervalMs: 60_000 });
    const reporter = new StatusReporter({ client, logger: silentLogger(), flushIntervalMs: 60_000, events });
    reporters.push(reporter);
    events.emit({ kind: 'Instance', namespace: 'default', name: 'web-a1b2c' }, 'Normal', 'Started', 'started container app', 'web');
    reporter.report('default', inst.metadata.name, running());
    return { client, events, reporter };
  };

  it('sends the waiting events with a status report to a server that takes them, and not in a request of their own', async () => {
    const { client, events, reporter } = setUp(true);
    await reporter.flush();
    expect(client.carriedEventBatches).toEqual([{ items: [expect.objectContaining({ reason: 'Started', involved: { kind: 'Instance', namespace: 'default', name: 'web-a1b2c' } })], source: 'agent/n1' }]);
    expect(client.statusBatches).toHaveLength(1);
    expect(events.pendingCount).toBe(0);
    await events.flush();
    expect(client.eventBatches).toEqual([]);
  });

  it('says a report that takes events is due only while one is pending for a server that takes them', async () => {
    const { client, reporter } = setUp(true);
    expect(reporter.takesEventsSoon).toBe(true);
    client.statusTakesEvents = undefined; // not known yet (no report answered), or an older server
    expect(reporter.takesEventsSoon).toBe(false);
    client.statusTakesEvents = true;
    await reporter.flush();
    expect(reporter.takesEventsSoon).toBe(false); // nothing pending
  });

  it('says no report is due while reports fail (the next waits out a back-off)', async () => {
    const { client, reporter } = setUp(true);
    client.nextStatusWithEvents = new UnavailableError('server restarting');
    await reporter.flush();
    expect(reporter.pendingCount).toBe(1);
    expect(reporter.takesEventsSoon).toBe(false);
    await reporter.flush();
    expect(reporter.takesEventsSoon).toBe(false); // taken: nothing pending
  });

  it('leaves them to their own request with a server that does not say it takes them', async () => {
    const { client, events, reporter } = setUp(false);
    await reporter.flush();
    expect(client.carriedEventBatches).toEqual([]);
    expect(events.pendingCount).toBe(1);
    await events.flush();
    expect(client.eventBatches).toHaveLength(1);
  });

  it('gives the events back when the report fails or is refused for its statuses, and drops them when refused for the events', async () => {
    const { client, events, reporter } = setUp(true);
    client.nextStatusWithEvents = new UnavailableError('server restarting');
    await reporter.flush();
    expect(events.pendingCount).toBe(1);
    client.nextStatusWithEvents = new ForbiddenError('node n1 may not write the status of instance default/web-zzzzz (items[0])');
    await reporter.flush();
    expect(events.pendingCount).toBe(1);
    client.nextStatusWithEvents = new InvalidError('the status report is invalid', [{ path: 'events[0].type', message: 'must be Normal or Warning' }]);
    await reporter.flush();
    expect(events.pendingCount).toBe(0);
    expect(client.carriedEventBatches).toEqual([]);
    await reporter.flush(); // the status again, alone
    expect(client.statusOf(anInstance('web-a1b2c'))?.phase).toBe('Running');
  });

  it('holds the events back for the time the server says when the node is over its event rate', async () => {
    const { client, events, reporter } = setUp(true);
    client.nextStatusWithEvents = 'throttle'; // retryAfterSeconds 1
    await reporter.flush();
    expect(client.statusBatches).toHaveLength(1); // the status went through; the events wait
    expect(events.pendingCount).toBe(1);
    reporter.report('default', 'web-a1b2c', running(1));
    await reporter.flush();
    expect(client.statusBatches).toHaveLength(2);
    expect(client.carriedEventBatches).toEqual([]); // not carried within the second
    expect(events.pendingCount).toBe(1);
  });
});

/** A started reporter (250 ms) for one instance the fake server knows. */
function aStartedReporter() {
  const client = new FakeGantryClient();
  const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
  client.addInstance(inst);
  const reporter = aReporter(client, 250);
  reporter.start();
  return { client, inst, reporter };
}

describe('StatusReporter', () => {
  it('sends many changes of many instances as one batch with the latest status of each', async () => {
    const client = new FakeGantryClient();
    const insts = Array.from({ length: 20 }, (_, i) => anInstance(`web-${String(i).padStart(5, '0')}`, { node: 'n1', containers: [aContainer()] }));
    for (const i of insts) client.addInstance(i);
    const reporter = aReporter(client);
    reporter.start();
    for (let n = 0; n < 5; n++) for (const i of insts) reporter.report('default', i.metadata.name, running(n));
    await waitFor(() => client.statusBatches.length > 0, 1000, 'a batch');
    await new Promise((r) => setTimeout(r, 80));
    expect(client.statusBatches).toHaveLength(1);
    expect(client.statusBatches[0]).toHaveLength(20);
    expect(client.statusBatches[0]?.every((item) => item.status.containers[0]?.restartCount === 4)).toBe(true);
    expect(client.statusOf(insts[0]!)?.updatedAt).toBeDefined();
  });

  it('does not send a status the server already accepted', async () => {
    const client = new FakeGantryClient();
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const reporter = aReporter(client);
    reporter.report('default', inst.metadata.name, running());
    await reporter.flush();
    reporter.report('default', inst.metadata.name, running());
    await reporter.flush();
    expect(client.statusBatches).toHaveLength(1);
    reporter.report('default', inst.metadata.name, running(1));
    await reporter.flush();
    expect(client.statusBatches).toHaveLength(2);
  });

  it('retries after the server failed, and drops instances the server no longer knows', async () => {
    const client = new FakeGantryClient();
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const reporter = aReporter(client, 10);
    client.down = true;
    reporter.start();
    reporter.report('default', inst.metadata.name, running());
    reporter.report('default', 'deleted-00000', running());
    await new Promise((r) => setTimeout(r, 60));
    expect(reporter.pendingCount).toBe(2);
    client.down = false;
    await waitFor(() => client.statusOf(inst)?.phase === 'Running', 2000, 'status delivered after the outage');
    await waitFor(() => reporter.pendingCount === 0, 1000, 'nothing pending');
  });

  it('drops, once, a status the server refuses because the instance is finished (Lost)', async () => {
    const client = new FakeGantryClient();
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const refused = vi.spyOn(client, 'reportInstanceStatus').mockImplementation(async (items) =>
      items.map((i) => ({ namespace: i.namespace, name: i.name, ok: false, error: { code: 'CONFLICT', message: `instance ${i.name} is Lost; it will be replaced` } })),
    );
    const logger = silentLogger();
    const info = vi.spyOn(logger, 'info');
    const warn = vi.spyOn(logger, 'warn');
    const reporter = new StatusReporter({ client, logger, flushIntervalMs: 10 });
    reporters.push(reporter);
    reporter.start();
    reporter.report('default', inst.metadata.name, running());
    await waitFor(() => refused.mock.calls.length > 0, 1000, 'the refused report');
    await new Promise((r) => setTimeout(r, 80));
    expect(refused).toHaveBeenCalledTimes(1);
    expect(reporter.pendingCount).toBe(0);
    expect(info).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('flushes what is pending when stopped', async () => {
    const client = new FakeGantryClient();
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const reporter = aReporter(client, 60_000);
    reporter.start();
    reporter.report('default', inst.metadata.name, running());
    await reporter.stop();
    expect(client.statusBatches).toHaveLength(1);
  });

  it('keeps no timer while nothing is pending (thousands of idle agents in one process)', async () => {
    vi.useFakeTimers();
    try {
      const { client, inst, reporter } = aStartedReporter();
      expect(vi.getTimerCount()).toBe(0);
      reporter.report('default', inst.metadata.name, running());
      reporter.report('default', inst.metadata.name, running(1));
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(250);
      expect(client.statusBatches).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      reporter.report('default', inst.metadata.name, running(2));
      await vi.advanceTimersByTimeAsync(250);
      expect(client.statusBatches).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('spaces reports a second apart while the server asks for longer heartbeats (a large cluster), a quarter second otherwise', async () => {
    vi.useFakeTimers();
    try {
      const { client, inst, reporter } = aStartedReporter();
      client.advisedHeartbeatIntervalMs = 10_000;
      reporter.report('default', inst.metadata.name, running());
      await vi.advanceTimersByTimeAsync(250);
      expect(client.statusBatches).toHaveLength(1);
      reporter.report('default', inst.metadata.name, running(1));
      await vi.advanceTimersByTimeAsync(250);
      expect(client.statusBatches).toHaveLength(1); // a second after the last one went
      await vi.advanceTimersByTimeAsync(750);
      expect(client.statusBatches).toHaveLength(2);
      client.advisedHeartbeatIntervalMs = undefined;
      reporter.report('default', inst.metadata.name, running(2));
      await vi.advanceTimersByTimeAsync(250);
      expect(client.statusBatches).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
