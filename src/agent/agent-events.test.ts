// The events an agent tells the server, as a user will read them in `gantry describe`.
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../core/index.js';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import { Agent, type AgentOptions } from './agent.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const running: { abort: AbortController; done: Promise<void> }[] = [];

function startAgent(driver: FakeDriver, client: FakeGantryClient, overrides: Partial<AgentOptions> = {}): { stop: () => Promise<void> } {
  const agent = new Agent({
    client,
    driver,
    nodeName: 'n1',
    labels: {},
    address: '127.0.0.1',
    agentToken: 'secret-token',
    logger: silentLogger(),
    heartbeatIntervalMs: 50,
    inspectIntervalMs: 50,
    statusFlushMs: 10,
    eventFlushMs: 10,
    restartBackoff: { baseMs: 20, capMs: 1000 },
    ...overrides,
  });
  const abort = new AbortController();
  const entry = { abort, done: agent.run(abort.signal) };
  running.push(entry);
  return {
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

const healthChecked = (): ContainerSpec =>
  aContainer('web', {
    ports: [{ name: 'http', containerPort: 80 }],
    healthCheck: { http: { port: 'http', path: '/' }, interval: '10ms', timeout: '5ms', retries: 3, startPeriod: '0s' },
  });

describe('agent events', () => {
  it('ride on the status report that is due rather than go on their own, to a server that takes them', async () => {
    const client = new FakeGantryClient();
    client.statusTakesEvents = true;
    const driver = new FakeDriver({ nodeName: 'n1', cpu: 4000, memory: 8 * 2 ** 30 });
    client.addInstance(anInstance('web-abcde', { node: 'n1', containers: [aContainer('web')] }));
    // The event timer (10 ms) fires long before the status report (200 ms) it waits for.
    startAgent(driver, client, { statusFlushMs: 200 });
    await waitFor(() => client.carriedEventBatches.some((b) => b.items.some((e) => e.reason === 'Started')), 3000, 'Started carried by a status report');
    expect(client.events('Started')).toEqual([]);
  });

  it('Registered on the node, Started on the instance, sent as agent/<node>', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1', cpu: 4000, memory: 8 * 2 ** 30 });
    const inst = anInstance('web-abcde', { node: 'n1', containers: [aContainer('web')] });
    client.addInstance(inst);
    startAgent(driver, client);
    const [started] = await waitFor(() => client.events('Started').length > 0 && client.events('Started'), 2000, 'Started');
    const [container] = await driver.recover();
    expect(started).toEqual({
      involved: { kind: 'Instance', namespace: 'default', name: 'web-abcde' },
      type: 'Normal',
      reason: 'Started',
      message: `started container web (id ${container!.id.slice(0, 12)})`,
    });
    const [registered] = client.events('Registered');
    expect(registered?.involved).toEqual({ kind: 'Node', name: 'n1' });
    expect(registered?.message).toBe('registered node n1 at 127.0.0.1: 4 CPU, 8Gi memory, driver fake');
    expect(client.eventBatches.every((b) => b.source === 'agent/n1')).toBe(true);
  });

  it('BackOff says how the container ended, when it restarts and which restart it is', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('web')] });
    client.addInstance(inst);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    const [container] = await driver.recover();
    driver.crash(container!.id, 137);
    const [backoff] = await waitFor(() => client.events('BackOff').length > 0 && client.events('BackOff'), 2000, 'BackOff');
    expect(backoff).toMatchObject({ type: 'Warning', involved: { kind: 'Instance', name: inst.metadata.name } });
    expect(backoff?.message).toBe('container web exited with code 137; restarting in 20ms (restart 1)');
    // The restart itself shows as Started again (the server aggregates the repeat).
    await waitFor(() => client.events('Started').length === 2, 2000, 'second Started');
    expect(new Set(client.events('Started').map((e) => e.message)).size).toBe(1);
  });

  it('Unhealthy names the failing probe and the restart', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [healthChecked()] });
    client.addInstance(inst);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    driver.setProbeResult(inst.metadata.name, false);
    const [unhealthy] = await waitFor(() => client.events('Unhealthy').length > 0 && client.events('Unhealthy'), 2000, 'Unhealthy');
    expect(unhealthy).toMatchObject({ type: 'Warning', involved: { kind: 'Instance', name: inst.metadata.name } });
    expect(unhealthy?.message).toBe('health check failed 3 times: GET / -> 500 (fake driver setProbeResult); restarting container web');
    const backoff = await waitFor(() => client.events('BackOff')[0], 2000, 'BackOff after the health kill');
    expect(backoff.message).toMatch(/^container web was stopped after failing its health check; restarting in \d+ms \(restart 1\)$/);
  });

  it('ImageNotFound carries the driver message on every attempt, identical so the server aggregates it', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1', missingImages: ['ghcr.io/acme/nope:1'] });
    client.addInstance(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('web', { image: 'ghcr.io/acme/nope:1' })] }));
    startAgent(driver, client);
    const events = await waitFor(() => client.events('ImageNotFound').length >= 2 && client.events('ImageNotFound'), 2000, 'two ImageNotFound');
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.message).toMatch(/^image "ghcr\.io\/acme\/nope:1" not found locally and could not be pulled: /);
    expect(events[1]?.message).toBe(events[0]?.message);
    expect(client.events('Started')).toEqual([]);
  });

  it('Killing when the instance is deleted, naming its containers', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('web'), aContainer('sidecar')] });
    client.addInstance(inst);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    client.deleteInstance(inst);
    const killing = await waitFor(() => client.events('Killing')[0], 2000, 'Killing');
    expect(killing).toEqual({
      involved: { kind: 'Instance', namespace: 'default', name: inst.metadata.name },
      type: 'Normal',
      reason: 'Killing',
      message: 'stopping containers web, sidecar: the instance was deleted',
    });
  });

  it('no Killing when an instance that stopped gracefully (spec.stop) is then deleted: nothing had to be killed', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('web')] });
    client.addInstance(inst);
    startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    const termination = { drainDelaySeconds: 0, gracePeriodSeconds: 5, stopSignal: 'SIGTERM' };
    const stopped = { ...inst, metadata: { ...inst.metadata, revision: inst.metadata.revision + 1 }, spec: { ...inst.spec, termination, stop: { at: new Date().toISOString(), reason: 'try it' } } };
    client.addInstance(stopped);
    await waitFor(() => client.statusOf(inst)?.reason === 'Stopped', 3000, 'Stopped');
    client.deleteInstance(stopped);
    await new Promise((r) => setTimeout(r, 300));
    expect(client.events('Stopping')).toHaveLength(1);
    expect(client.events('Stopped')[0]?.message).toMatch(/^phase Succeeded: stopped: try it \(web exited with code \d+\)$/);
    expect(client.events('Killing')).toEqual([]);
  });

  it('Adopted after an agent restart, RemovedOrphan for a container no instance wants', async () => {
    const client = new FakeGantryClient();
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('web'), aContainer('sidecar')] });
    client.addInstance(inst);
    const first = startAgent(driver, client);
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'ready');
    await first.stop();
    expect(client.events('Adopted')).toEqual([]);

    const orphan = anInstance('gone-11111', { node: 'n1', containers: [aContainer()] });
    const orphanId = await driver.create({ instance: { namespace: 'default', name: 'gone-11111', uid: orphan.metadata.uid }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'gone-11111' });
    await driver.start(orphanId);
    startAgent(driver, client);
    const adopted = await waitFor(() => client.events('Adopted')[0], 2000, 'Adopted');
    expect(adopted).toMatchObject({ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', message: 'adopted 2 running containers of 1 instance' });
    const removed = await waitFor(() => client.events('RemovedOrphan')[0], 2000, 'RemovedOrphan');
    expect(removed.involved).toEqual({ kind: 'Node', name: 'n1' });
    expect(removed.message).toBe(`removed container ${orphanId.slice(0, 12)} (labelled for instance default/gone-11111, which no longer exists)`);
  });
});
