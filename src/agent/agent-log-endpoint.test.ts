// Where an agent's log endpoint comes from: its own socket (gantry agent, gantry up), a log server
// shared with other agents of the process (gantry sim), or none at all.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import { Agent, type AgentOptions } from './agent.js';
import { SharedLogServer } from './node/shared-log-server.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startAgent(nodeName: string, client: FakeGantryClient, driver: FakeDriver, overrides: Partial<AgentOptions>): { agent: Agent; stop: () => Promise<void> } {
  const agent = new Agent({ client, driver, nodeName, labels: {}, agentToken: 'agent-secret', logger: silentLogger(), heartbeatIntervalMs: 50, statusFlushMs: 10, ...overrides });
  const abort = new AbortController();
  const done = agent.run(abort.signal);
  const stop = async (): Promise<void> => {
    abort.abort();
    await done;
  };
  cleanups.push(stop);
  return { agent, stop };
}

async function aSharedServer(): Promise<SharedLogServer> {
  const server = new SharedLogServer({ logger: silentLogger() });
  await server.listen();
  cleanups.push(() => server.close());
  return server;
}

const auth = { authorization: 'Bearer agent-secret' };

describe('Agent log endpoint', () => {
  it('with agentListen false, registers without an agent URL and still runs its instances', async () => {
    const client = new FakeGantryClient();
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    client.addInstance(inst);
    const { agent } = startAgent('n1', client, new FakeDriver({ nodeName: 'n1' }), { agentListen: false });
    const update = await waitFor(() => client.nodeStatusUpdates[0], 2000, 'node status');
    expect(update.status.ready).toBe(true);
    expect(update.status).not.toHaveProperty('agentUrl');
    expect(agent.agentUrl).toBeUndefined();
    await waitFor(() => client.statusOf(inst)?.ready, 2000, 'instance ready');
  });

  it('attached to a shared log server, publishes its route there and serves its containers through it', async () => {
    const server = await aSharedServer();
    const client = new FakeGantryClient();
    const inst1 = anInstance('web-aaaa1', { node: 'n1', containers: [aContainer()] });
    const inst2 = anInstance('web-bbbb2', { node: 'n2', containers: [aContainer()] });
    client.addInstance(inst1);
    client.addInstance(inst2);
    const one = startAgent('n1', client, new FakeDriver({ nodeName: 'n1' }), { logServer: server, agentListen: '127.0.0.1:1' });
    startAgent('n2', client, new FakeDriver({ nodeName: 'n2' }), { logServer: server });
    await waitFor(() => client.statusOf(inst1)?.ready && client.statusOf(inst2)?.ready, 2000, 'both instances ready');
    const published = new Map(client.nodeStatusUpdates.map((u) => [u.name, u.status.agentUrl]));
    expect(published.get('n1')).toBe(`${server.url}/nodes/n1`);
    expect(published.get('n2')).toBe(`${server.url}/nodes/n2`);
    expect(one.agent.agentUrl).toBe(`${server.url}/nodes/n1`);
    expect(server.attached).toBe(2);

    const id1 = client.statusOf(inst1)?.containers[0]?.containerId ?? '';
    const id2 = client.statusOf(inst2)?.containers[0]?.containerId ?? '';
    const res = await fetch(`${published.get('n1') ?? ''}/v1/containers/${id1}/log?tail=1`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fake: running\n');
    expect((await fetch(`${published.get('n1') ?? ''}/v1/containers/${id2}/log`, { headers: auth })).status).toBe(404);

    await one.stop();
    expect(server.attached).toBe(1);
    // A detached node's secret opens nothing there any more.
    expect((await fetch(`${published.get('n1') ?? ''}/v1/containers/${id1}/log`, { headers: auth })).status).toBe(401);
  });
});
