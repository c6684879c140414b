// The node authorizer against a real app and store: a node's own credential reaches its own
// objects and nothing else.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GantryNode, Manifest, NodeStatus } from '../core/index.js';
import { aNode, anInstance } from '../core/test-builders.js';
import { AGENT_LABEL_PREFIX } from './node-authorizer.js';
import { EventReporter } from '../agent/node/event-reporter.js';
import type { GantryClient } from '../client/types.js';
import pino from 'pino';
import { aNodeToken, aRunningStatus, startHarness, type Harness } from './test-helpers.js';

let h: Harness;
let a: string;
afterEach(async () => {
  await h.close();
});

const nodeStatus = (over: Partial<NodeStatus> = {}): NodeStatus => ({ ready: true, capacity: { cpu: 4000, memory: 2 ** 30 }, driver: 'docker', conditions: [], ...over });
const secret = (name: string): Manifest => ({ apiVersion: 'gantry/v1', kind: 'Secret', metadata: { name, namespace: 'default' }, spec: { data: { password: 'hunter2' } } });
const usingSecret = (name: string, node: string, secretName: string) =>
  anInstance(name, { node, spec: { configFiles: [{ path: '/etc/pw', secretRef: { name: secretName, key: 'password' } }] } });
const message = (res: { json(): unknown }): string => (res.json() as { error: { message: string } }).error.message;

beforeEach(async () => {
  h = await startHarness();
  for (const [name, address] of [['node-a', '10.0.0.1'], ['node-b', '10.0.0.2']] as const) {
    const n = await h.store.create<GantryNode>({ ...aNode(name), spec: { address, agentPort: 7071 } });
    await h.store.update({ ...n, status: nodeStatus({ address }) });
  }
  await h.store.create(secret('mine'));
  await h.store.create(secret('theirs'));
  await h.store.create(usingSecret('web-aaaaa', 'node-a', 'mine'));
  await h.store.create(usingSecret('web-bbbbb', 'node-b', 'theirs'));
  a = await aNodeToken(h, 'node-a', '10.0.0.1', 7071);
});

describe('node authorizer: reads', () => {
  it('reads its own Node and instances; 403 on the other node, its instances and Node specs of others', async () => {
    expect((await h.call({ method: 'GET', url: '/api/v1/nodes/node-a', token: a })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances/web-aaaaa', token: a })).statusCode).toBe(200);
    const other = await h.call({ method: 'GET', url: '/api/v1/nodes/node-b', token: a });
    expect(other.statusCode).toBe(403);
    expect(message(other)).toMatch(/^node node-a may not read node node-b: a node reads and writes only its own Node/);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances/web-bbbbb', token: a })).statusCode).toBe(403);
  });

  it('lists only its own Node and instances, whatever selector it sends', async () => {
    const nodes = await h.call({ method: 'GET', url: '/api/v1/nodes', token: a });
    expect(nodes.json<{ items: GantryNode[] }>().items.map((n) => n.metadata.name)).toEqual(['node-a']);
    const all = await h.call({ method: 'GET', url: '/api/v1/instances', token: a });
    expect(all.json<{ items: GantryNode[] }>().items.map((i) => i.metadata.name)).toEqual(['web-aaaaa']);
    const asked = await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=spec.node%3Dnode-b', token: a });
    expect(asked.json().items).toEqual([]);
  });

  it('gets the files and Secrets its instances use, and 403 for another node’s', async () => {
    const files = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances/web-aaaaa/files', token: a });
    expect(files.json().files).toEqual([{ path: '/etc/pw', mode: '0644', content: 'hunter2' }]);
    // Without ?node= too: the credential says which node asks.
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances/web-bbbbb/files', token: a })).statusCode).toBe(403);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/secrets/mine', token: a })).statusCode).toBe(200);
    const theirs = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/secrets/theirs', token: a });
    expect(theirs.statusCode).toBe(403);
    expect(message(theirs)).toMatch(/which no instance on node node-a uses/);
  });

  it('refuses every other route: services, secrets lists, endpoints, events lists', async () => {
    for (const url of ['/api/v1/namespaces/default/services', '/api/v1/namespaces/default/secrets', '/api/v1/endpoints', '/api/v1/events', '/api/v1/namespaces']) {
      expect((await h.call({ method: 'GET', url, token: a })).statusCode, url).toBe(403);
    }
    const svc = await h.call({
      method: 'POST',
      url: '/api/v1/namespaces/default/services',
      token: a,
      payload: { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'x' }, spec: { containers: [{ name: 'm', image: 'x' }] } },
    });
    expect(svc.statusCode).toBe(403);
  });
});

describe('node authorizer: writes', () => {
  it('writes its own Node status within its address and agent port; refuses another agentUrl or address', async () => {
    const url = '/api/v1/nodes/node-a/status';
    expect((await h.call({ method: 'PUT', url, token: a, payload: { status: nodeStatus({ address: '10.0.0.1', agentUrl: 'https://10.0.0.1:7071' }) } })).statusCode).toBe(200);
    const toB = await h.call({ method: 'PUT', url, token: a, payload: { status: nodeStatus({ agentUrl: 'https://10.0.0.2:7071' }) } });
    expect(toB.statusCode).toBe(403);
    expect(message(toB)).toMatch(/status.agentUrl https:\/\/10.0.0.2:7071: node node-a joined with address 10.0.0.1 and agent port 7071/);
    expect((await h.call({ method: 'PUT', url, token: a, payload: { status: nodeStatus({ agentUrl: 'https://10.0.0.1:80' }) } })).statusCode).toBe(403);
    expect((await h.call({ method: 'PUT', url, token: a, payload: { status: nodeStatus({ address: '10.0.0.9' }) } })).statusCode).toBe(403);
    expect((await h.call({ method: 'PUT', url: '/api/v1/nodes/node-b/status', token: a, payload: { status: nodeStatus() } })).statusCode).toBe(403);
    expect((await h.call({ method: 'POST', url: '/api/v1/nodes/node-b/heartbeat', token: a })).statusCode).toBe(403);
    expect((await h.call({ method: 'POST', url: '/api/v1/nodes/node-a/heartbeat', token: a })).statusCode).toBe(204);
  });

  it('applies its own Node only with its address and port, the administrator’s spec fields and labels as they are', async () => {
    const node = (over: Partial<Manifest<GantryNode>['spec']>, labels: Record<string, string> = {}): Manifest =>
      ({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'node-a', labels }, spec: { address: '10.0.0.1', agentPort: 7071, ...over } });
    const put = (m: Manifest, name = 'node-a') => h.call({ method: 'PUT', url: `/api/v1/nodes/${name}`, token: a, payload: m });
    expect((await put(node({}, { [`${AGENT_LABEL_PREFIX}kernel`]: '6.1' }))).statusCode).toBe(200);
    expect((await put(node({ overcommit: { cpu: 100 } }))).statusCode).toBe(403);
    expect((await put(node({ unschedulable: true }))).statusCode).toBe(403);
    expect((await put(node({ address: '10.0.0.2' }))).statusCode).toBe(403);
    expect((await put(node({ agentPort: 22 }))).statusCode).toBe(403);
    const label = await put(node({}, { rack: 'r1' }));
    expect(label.statusCode).toBe(403);
    expect(message(label)).toMatch(/change label rack \(a node sets only labels under agent.gantry.io\//);
    expect((await put({ ...node({}), metadata: { name: 'node-new' } }, 'node-new')).statusCode).toBe(403);
  });

  it('writes status of its own instances with its own address as hostIP, and nothing about others', async () => {
    const own = '/api/v1/namespaces/default/instances/web-aaaaa/status';
    expect((await h.call({ method: 'PUT', url: own, token: a, payload: { status: aRunningStatus('c1', { hostIP: '10.0.0.1' }) } })).statusCode).toBe(200);
    expect((await h.call({ method: 'PUT', url: own, token: a, payload: { status: aRunningStatus('c1', { hostIP: '10.0.0.2' }) } })).statusCode).toBe(403);
    const theirs = '/api/v1/namespaces/default/instances/web-bbbbb/status';
    expect((await h.call({ method: 'PUT', url: theirs, token: a, payload: { status: aRunningStatus('c1', { hostIP: '10.0.0.1' }) } })).statusCode).toBe(403);
    const batch = await h.call({
      method: 'POST',
      url: '/api/v1/status/instances',
      token: a,
      payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status: aRunningStatus('c2') }, { namespace: 'default', name: 'web-bbbbb', status: aRunningStatus('c2') }] },
    });
    expect(batch.statusCode).toBe(403);
    expect(message(batch)).toMatch(/web-bbbbb \(items\[1\]\)/);
    expect((await h.store.get('Instance', 'default', 'web-bbbbb'))?.status?.phase).toBe('Pending');
  });

  it('records events about its Node and instances (or gone ones), not about others', async () => {
    const ev = (kind: string, name: string) => ({ involved: { kind, name, ...(kind === 'Node' ? {} : { namespace: 'default' }) }, type: 'Normal', reason: 'Test', message: 'x' });
    const post = (items: unknown[]) => h.call({ method: 'POST', url: '/api/v1/events', token: a, payload: { items } });
    expect((await post([ev('Node', 'node-a'), ev('Instance', 'web-aaaaa'), ev('Instance', 'web-gone0')])).statusCode).toBe(200);
    expect((await post([ev('Node', 'node-b')])).statusCode).toBe(403);
    expect((await post([ev('Instance', 'web-bbbbb')])).statusCode).toBe(403);
    expect((await post([ev('Config', 'web')])).statusCode).toBe(403);
  });

  it("records the agent's combined events about a service it runs instances of (or a gone one), not about another service", async () => {
    const svc = (name: string): Manifest => ({ apiVersion: 'gantry/v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { replicas: 1, containers: [{ name: 'm', image: 'x' }] } });
    await h.store.create(svc('web'));
    await h.store.create(svc('api'));
    await h.store.create(anInstance('api-bbbbb', { node: 'node-b', service: 'api' }));
    const post = (name: string) =>
      h.call({ method: 'POST', url: '/api/v1/events', token: a, payload: { items: [{ involved: { kind: 'Service', namespace: 'default', name }, type: 'Normal', reason: 'Started', message: '10 instances' }] } });
    // web-aaaaa (service web) is on node-a.
    expect((await post('web')).statusCode).toBe(200);
    // A deleted service's last events (its instances may be gone too by the time they are sent).
    expect((await post('gone')).statusCode).toBe(200);
    const other = await post('api');
    expect(other.statusCode).toBe(403);
    expect(message(other)).toMatch(/^node node-a may not record events about service default\/api \(items\[0\]\), which has no instance on it/);
  });

  it("takes an agent's batch with ten or more Started of one service, combined on the service", async () => {
    for (let i = 0; i < 11; i++) await h.store.create(anInstance(`web-c${String(i).padStart(4, '0')}`, { node: 'node-a' }));
    const refused: unknown[] = [];
    const client = {
      recordEvents: async (items: unknown[], source?: string) => {
        const res = await h.call({ method: 'POST', url: '/api/v1/events', token: a, payload: { items, source } });
        if (res.statusCode !== 200) refused.push(res.json());
      },
    } as unknown as GantryClient;
    const reporter = new EventReporter({ client, logger: pino({ level: 'silent' }), source: 'agent/node-a' });
    for (let i = 0; i < 11; i++) reporter.emit({ kind: 'Instance', namespace: 'default', name: `web-c${String(i).padStart(4, '0')}` }, 'Normal', 'Started', 'started container m', 'web');
    reporter.emit({ kind: 'Node', name: 'node-a' }, 'Warning', 'DiskPressure', 'disk 91% full');
    await reporter.flush();
    expect(refused).toEqual([]);
    const { items } = await h.store.list('Event', { namespace: 'default' });
    const started = items.filter((e) => (e.spec as { reason: string }).reason === 'Started');
    expect(started.map((e) => (e.spec as { involved: { kind: string; name: string }; message: string }).involved)).toEqual([{ kind: 'Service', namespace: 'default', name: 'web' }]);
    expect((started[0]!.spec as { message: string }).message).toMatch(/^11 instances \(web-c0000, /);
    // The batch's other event went in with it: a refused batch would have lost both.
    expect(items.some((e) => (e.spec as { reason: string }).reason === 'DiskPressure')).toBe(true);
  });
});
