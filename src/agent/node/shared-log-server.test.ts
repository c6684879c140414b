import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { SharedLogServer } from './shared-log-server.js';
import { aContainer, silentLogger } from '../test-helpers.js';

const servers: SharedLogServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function aSharedServer(): Promise<SharedLogServer> {
  const server = new SharedLogServer({ logger: silentLogger() });
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

/** Each node's endpoint secret (from its join): `secret-of-<node>` here. */
const auth = (node: string) => ({ authorization: `Bearer secret-of-${node}` });
/** What the server's log proxy asks: the node's agent URL plus /v1/containers/{id}/log. */
const proxied = (agentUrl: string, id: string): string => `${agentUrl}/v1/containers/${id}/log`;

describe('SharedLogServer', () => {
  it('gives each node an agent URL of its own and serves a container from the node the URL names', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('hollow-0001');
    const b = await aNodeWithContainer('hollow-0002');
    const urlA = server.attach('hollow-0001', a, 'secret-of-hollow-0001').url;
    const urlB = server.attach('hollow-0002', b, 'secret-of-hollow-0002').url;
    expect(urlA).toBe(`${server.url}/nodes/hollow-0001`);
    expect(urlB).not.toBe(urlA);

    const res = await fetch(proxied(urlB, b.id), { headers: auth('hollow-0002') });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('image img/hollow-0002:1');
    expect(await (await fetch(proxied(urlA, a.id), { headers: auth('hollow-0001') })).text()).toContain('image img/hollow-0001:1');
    // One node's secret does not open another's path.
    expect((await fetch(proxied(urlB, b.id), { headers: auth('hollow-0001') })).status).toBe(401);
  });

  it('answers 404 for a container of another node, and for a node that is not attached', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const b = await aNodeWithContainer('n-b');
    const urlA = server.attach('n-a', a, 'secret-of-n-a').url;
    server.attach('n-b', b, 'secret-of-n-b');
    const wrongNode = await fetch(proxied(urlA, b.id), { headers: auth('n-a') });
    expect(wrongNode.status).toBe(404);
    expect(await wrongNode.json()).toMatchObject({ error: { message: expect.stringContaining('node n-a') } });
    // A node that is not attached has no secret here: nothing opens its path.
    expect((await fetch(proxied(`${server.url}/nodes/n-c`, a.id), { headers: auth('n-c') })).status).toBe(401);
    expect((await fetch(`${server.url}/nodes/n-a/other`, { headers: auth('n-a') })).status).toBe(401);
  });

  it("refuses a path that names no node: no node's secret applies to it", async () => {
    const server = await aSharedServer();
    const b = await aNodeWithContainer('n-b');
    server.attach('n-b', b, 'secret-of-n-b');
    expect((await fetch(`${server.url}/v1/containers/${b.id}/log?tail=1`, { headers: auth('n-b') })).status).toBe(401);
  });

  it('stops serving a node once it detached, and lets it attach again', async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const first = server.attach('n-a', a, 'secret-of-n-a');
    expect(() => server.attach('n-a', a, 'secret-of-n-a')).toThrow(/already attached/);
    first.detach();
    expect(server.attached).toBe(0);
    expect((await fetch(proxied(first.url, a.id), { headers: auth('n-a') })).status).toBe(401);
    const again = server.attach('n-a', a, 'secret-of-n-a');
    expect((await fetch(proxied(again.url, a.id), { headers: auth('n-a') })).status).toBe(200);
  });

  it("answers 401 without the node's endpoint secret, before looking at the container", async () => {
    const server = await aSharedServer();
    const a = await aNodeWithContainer('n-a');
    const { url } = server.attach('n-a', a, 'secret-of-n-a');
    expect((await fetch(proxied(url, a.id))).status).toBe(401);
    expect((await fetch(`${server.url}/nodes/%E0%A4%A/v1/containers/x/log`)).status).toBe(401);
    expect((await fetch(`${server.url}/nodes/%E0%A4%A/v1/containers/x/log`, { headers: auth('n-a') })).status).toBe(401);
  });
});
