// The node authorizer against a real app and store: a node's own credential reaches its own
// objects and nothing else.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GantryNode, Manifest, NodeStatus } from '../core/index.js';
import { aNode, anInstance } from '../core/test-builders.js';
import { AGENT_LABEL_PREFIX } from './node-authorizer.js';
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
    const ev = (kind: string, name: string) => ({ involved: { kind, name, ...(kind === 'Instance' ? { namespace: 'default' } : {}) }, type: 'Normal', reason: 'Test', message: 'x' });
    const post = (items: unknown[]) => h.call({ method: 'POST', url: '/api/v1/events', token: a, payload: { items } });
    expect((await post([ev('Node', 'node-a'), ev('Instance', 'web-aaaaa'), ev('Instance', 'web-gone0')])).statusCode).toBe(200);
    expect((await post([ev('Node', 'node-b')])).statusCode).toBe(403);
    expect((await post([ev('Instance', 'web-bbbbb')])).statusCode).toBe(403);
    expect((await post([ev('Service', 'web')])).statusCode).toBe(403);
  });
});
