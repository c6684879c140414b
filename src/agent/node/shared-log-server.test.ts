import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { SharedLogServer } from './shared-log-server.js';
import { aContainer, silentLogger } from '../test-helpers.js';

const servers: SharedLogServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function aSharedServer(): Promise<SharedLogServer> {
  const server = new SharedLogServer({ token: 'agent-secret', logger: silentLogger() });
  servers.push(server);
  await server.listen();
  return server;
}

/** A hollow node: a fake driver with one running container whose log says which node it is on. */
async function aNodeWithContainer(nodeName: string): Promise<{ driver: FakeDriver; id: string; owns: (c: string) => boolean }> {
  const driver = new FakeDriver({ nodeName });
  const name = `web-${nodeName}`;
  const id = await driver.create({ instance: { namespace: 'default', name, uid: `uid-${nodeName}` }, spec: aContainer('app', { image: `img/${nodeName}:1` }), index: 0, publish: [], env: {}, hostname: name });
  await driver.start(id);
  return { driver, id, owns: (c) => c === id };
}

const auth = { authorization: 'Bearer agent-secret' };
/** What the server's log proxy asks: the node's agent URL plus /v1/containers/{id}/log. */
const proxied = (agentUrl: string, id: string): string => `${agentUrl}/v1/containers/${id}/log`;

describe('SharedLogServer', () => {
  it('gives each node an agent URL of its own and serves a container from the node the URL names', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('hollow-0001');
    const b = await aNodeWithContainer('hollow-0002');
    const urlA = server.attach('hollow-0001', a).url;
    const urlB = server.attach('hollow-0002', b).url;
    expect(urlA).toBe(`${server.url}/nodes/hollow-0001`);
    expect(urlB).not.toBe(urlA);

    const res = await fetch(proxied(urlB, b.id), { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('image img/hollow-0002:1');
    expect(await (await fetch(proxied(urlA, a.id), { headers: auth })).text()).toContain('image img/hollow-0001:1');
  });

  it('answers 404 for a container of another node, and for a node that is not attached', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const b = await aNodeWithContainer('n-b');
    const urlA = server.attach('n-a', a).url;
    server.attach('n-b', b);
    const wrongNode = await fetch(proxied(urlA, b.id), { headers: auth });
    expect(wrongNode.status).toBe(404);
    expect(await wrongNode.json()).toMatchObject({ error: { message: expect.stringContaining('node n-a') } });
    expect((await fetch(proxied(`${server.url}/nodes/n-c`, a.id), { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/nodes/n-a/other`, { headers: auth })).status).toBe(404);
  });

  it('finds the node by container id when the path names none', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const b = await aNodeWithContainer('n-b');
    server.attach('n-a', a);
    server.attach('n-b', b);
    const res = await fetch(`${server.url}/v1/containers/${b.id}/log?tail=1`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fake: running\n');
    expect((await fetch(`${server.url}/v1/containers/nobodys/log`, { headers: auth })).status).toBe(404);
  });

  it('stops serving a node once it detached, and lets it attach again', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const first = server.attach('n-a', a);
    expect(() => server.attach('n-a', a)).toThrow(/already attached/);
    first.detach();
    expect(server.attached).toBe(0);
    expect((await fetch(proxied(first.url, a.id), { headers: auth })).status).toBe(404);
    const again = server.attach('n-a', a);
    expect((await fetch(proxied(again.url, a.id), { headers: auth })).status).toBe(200);
  });

  it('answers 401 without the agent token, before looking at the path', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const { url } = server.attach('n-a', a);
    expect((await fetch(proxied(url, a.id))).status).toBe(401);
    expect((await fetch(`${server.url}/nodes/%E0%A4%A/v1/containers/x/log`)).status).toBe(401);
    expect((await fetch(`${server.url}/nodes/%E0%A4%A/v1/containers/x/log`, { headers: auth })).status).toBe(404);
  });
});
