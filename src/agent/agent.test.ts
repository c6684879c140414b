import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import type { DriverEvent } from '../drivers/driver.js';
import { Agent, type AgentOptions } from './agent.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const running: { abort: AbortController; done: Promise<void> }[] = [];

function startAgent(driver: FakeDriver, client: FakeGantryClient, overrides: Partial<AgentOptions> = {}): { agent: Agent; stop: () => Promise<void> } {
  const agent = new Agent({
    client,
    driver,
    nodeName: 'n1',
    labels: { rack: 'a' },
    address: '127.0.0.1',
    agentToken: 'secret-token',
    logger: silentLogger(),
    heartbeatIntervalMs: 50,
    inspectIntervalMs: 50,
    statusFlushMs: 10,
    restartBackoff: { baseMs: 20, capMs: 1000 },
    ...overrides,
  });
  const abort = new AbortController();
  const entry = { abort, done: agent.run(abort.signal) };
  running.push(entry);
  return {
    agent,
    stop: async () => {
      abort.abort();
      await entry.done;
    },
  };
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.abort.abort();
    await r.done;
  }
});

describe('Agent', () => {
  it('registers its node with the driver capacity, labels and agent URL, then heartbeats', async () => {
    const client = new FakeGantryClient();
    const { agent } = startAgent(new FakeDriver({ nodeName: 'n1', cpu: 4000, memory: 8 * 2 ** 30 }), client);
    const update = await waitFor(() => client.nodeStatusUpdates[0], 2000, 'node status');
    expect(client.applies[0]).toMatchObject({ kind: 'Node', metadata: { name: 'n1', labels: { rack: 'a' } }, spec: { address: '127.0.0.1' } });
    expect(update.status).toMatchObject({ ready: true, capacity: { cpu: 4000, memory: 8 * 2 ** 30 }, driver: 'fake', address: '127.0.0.1' });
    expect(update.status.agentUrl).toBe(agent.agentUrl);
    expect(update.status.agentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor(() => client.heartbeats >= 2, 2000, 'heartbeats');
  });

  it('keeps retrying while the server is down and registers once it is back', async () => {
    const client = new FakeGantryClient();
    client.down = true;
    startAgent(new FakeDriver({ nodeName: 'n1' }), client);
    await new Promise((r) => setTimeout(r, 200));
    expect(client.nodes.size).toBe(0);
    client.down = false;
    await waitFor(() => client.nodes.get('n1')?.status?.ready, 3000, 'registration after outage');
  });

  it('registers again when the server forgot the node', async () => {
    const client = new FakeGantryClient();
    startAgent(new FakeDriver({ nodeName: 'n1' }), client);
    await waitFor(() => client.heartbeats >= 1, 2000, 'first heartbeat');
    client.nodes.delete('n1');
    await waitFor(() => client.nodes.get('n1')?.status?.ready, 2000, 'registration again');
    expect(client.applies.length).toBeGreaterThanOrEqual(2);
  });

  it('starts the containers of an instance bound to it and reports Running and ready', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }] }), aContainer('sidecar')] });
    client.addInstance(inst);
    client.addInstance(anInstance('elsewhere-x1y2z', { node: 'n2', containers: [aContainer()] }));
    startAgent(driver, client);
    const status = await waitFor(() => (client.statusOf(inst)?.ready ? client.statusOf(inst) : undefined), 2000, 'ready');
    expect(status).toMatchObject({ phase: 'Running', node: 'n1', hostIP: '127.0.0.1' });
    expect(status.containers.map((c) => [c.name, c.state])).toEqual([['app', 'running'], ['sidecar', 'running']]);
    expect(status.containers[0]?.hostPorts.http).toBeGreaterThan(0);
    const containers = await driver.recover();
    expect(containers).toHaveLength(2);
    expect(containers.every((c) => c.instance.uid === inst.metadata.uid)).toBe(true);
  });

  it('picks up an instance bound after start, through the watch', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    startAgent(driver, client);
    await waitFor(() => client.listCalls > 0, 2000, 'first list');
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    // Its own status reports are not sent back to it (the server leaves them out of the watch).
    expect(client.watchOptions.at(-1)).toMatchObject({ kind: 'Instance', field: { path: 'spec.node', value: 'n1' }, omitStatusChanges: true });
  });

  it('a second agent on the same driver adopts running containers: same ids, no restart', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] });
    client.addInstance(inst);
    const first = startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    const before = await driver.recover();
    await first.stop();
    expect((await driver.recover()).every((c) => c.running)).toBe(true);

    startAgent(driver, client);
    await waitFor(() => client.listCalls >= 2, 2000, 'second agent lists');
    await new Promise((r) => setTimeout(r, 200));
    const after = await driver.recover();
    expect(after.map((c) => [c.id, c.startedAt, c.running])).toEqual(before.map((c) => [c.id, c.startedAt, true]));
    const status = client.statusOf(inst);
    expect(status?.ready).toBe(true);
    expect(status?.containers.map((c) => c.restartCount)).toEqual([0, 0]);
  });

  it('destroys labelled containers no instance wants, but only after the first list arrived', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const orphan = anInstance('gone-11111', { node: 'n1', containers: [aContainer()] });
    const orphanId = await driver.create({ instance: { namespace: 'default', name: 'gone-11111', uid: orphan.metadata.uid }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'gone-11111' });
    await driver.start(orphanId);
    client.failLists = 2;
    startAgent(driver, client);
    await waitFor(() => client.listCalls >= 2, 3000, 'two failed lists');
    expect(await driver.inspect(orphanId)).toMatchObject({ running: true });
    await waitFor(async () => (await driver.inspect(orphanId)) === undefined, 5000, 'orphan destroyed after a successful list');
    expect(client.listCalls).toBe(3);
  });

  it('sweeps labelled containers no instance wants every orphanSweepIntervalMs, without waiting for a relist', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    startAgent(driver, client, { orphanSweepIntervalMs: 50 });
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    // Left by a create whose answer was lost, or a removal that failed: no runner knows it.
    const orphanId = await driver.create({ instance: { namespace: 'default', name: 'gone-22222', uid: 'uid-gone' }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'gone-22222' });
    await waitFor(async () => (await driver.inspect(orphanId)) === undefined, 2000, 'orphan swept');
    expect((await driver.recover()).map((c) => c.instance.uid)).toEqual([inst.metadata.uid]);
    expect(client.listCalls).toBe(1);
  });

  it('stops and destroys the containers of a deleted instance', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const keep = anInstance('web-keep1', { node: 'n1', containers: [aContainer()] });
    const doomed = anInstance('web-doom1', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] });
    client.addInstance(keep);
    client.addInstance(doomed);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(doomed)?.ready && client.statusOf(keep)?.ready, 2000, 'both ready');
    client.deleteInstance(doomed);
    await waitFor(async () => (await driver.recover()).length === 1, 2000, 'doomed containers gone');
    const left = await driver.recover();
    expect(left[0]?.instance.uid).toBe(keep.metadata.uid);
  });

  it('reacts to a driver die event at once, without waiting for the periodic inspection', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    startAgent(driver, client, { inspectIntervalMs: 60_000 });
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    const [container] = await driver.recover();
    driver.crash(container!.id, 1);
    await waitFor(() => client.statusOf(inst)?.containers[0]?.restartCount === 1 && client.statusOf(inst)?.ready, 2000, 'restarted after die event');
    expect((await driver.recover()).map((c) => c.id)).toEqual([container!.id]);
  });

  it('re-inspects every instance when the driver event stream fails, not one inspection interval later', async () => {
    /** A driver whose first event stream delivers nothing and then fails: events of that time are lost. */
    class LosesEvents extends FakeDriver {
      private failStream: ((e: Error) => void) | undefined;
      private streams = 0;
      override async *events(signal: AbortSignal): AsyncGenerator<DriverEvent, void, undefined> {
        if (++this.streams === 1) await new Promise<void>((_, reject) => (this.failStream = reject));
        yield* super.events(signal);
      }
      breakStream(): void {
        this.failStream?.(new Error('events connection reset by peer'));
      }
    }
    const client = new FakeGantryClient();
    const driver = new LosesEvents({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    startAgent(driver, client, { inspectIntervalMs: 60_000 });
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    const [container] = await driver.recover();
    driver.crash(container!.id, 1); // nobody hears this one
    await new Promise((r) => setTimeout(r, 100));
    expect(client.statusOf(inst)?.containers[0]?.restartCount).toBe(0);
    driver.breakStream();
    await waitFor(() => client.statusOf(inst)?.containers[0]?.restartCount === 1 && client.statusOf(inst)?.ready, 2000, 'restarted after the stream failed');
  });

  it('removes an instance that is missing from a relist after its deletion event was missed', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    client.deleteInstanceUnseen(inst);
    await waitFor(async () => (await driver.recover()).length === 0, 2000, 'containers removed after relist');
    expect(client.listCalls).toBe(2);
  });
});
