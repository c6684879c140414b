// Node identity end to end: a server and two agents joined with join tokens (one dockerd), the
// agents on 127.0.0.2 and 127.0.0.3 so that their addresses differ. Each agent's credential
// reaches only its own objects; a revoked node is refused within a second; a join token made for
// another CA is refused before anything is sent.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GantryProcesses } from '../support/gantry-process.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

let g: GantryProcesses;
let image = '';
const homes: string[] = [];
const credential: Record<string, string> = {};

async function agentHome(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-e2e-agent-'));
  homes.push(dir);
  return dir;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; message: string }> {
  const res = await g.fetch(`${g.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    // not JSON
  }
  return { status: res.status, message };
}

const service = (name: string, node: string, secret: string): string => `
apiVersion: gantry/v1
kind: Secret
metadata: { name: ${secret} }
spec: { data: { password: "pw-${secret}" } }
---
apiVersion: gantry/v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 1
  placement: { constraints: [host=${node}] }
  configFiles: [{ path: /etc/pw, secretRef: { name: ${secret}, key: password } }]
  containers:
    - name: main
      image: ${image}
      command: ["sh", "-c", "sleep 3600"]
      resources: { cpu: 0.05, memory: 32Mi }
`;

beforeAll(async () => {
  image = await ensureTestImage();
  g = await GantryProcesses.create();
  await g.server();
  const made = await g.cli(['token', 'create', '--join', '--uses', '2']);
  expect(made.code, made.stderr).toBe(0);
  const joinToken = made.stdout.trim();
  for (const [node, address] of [['node-a', '127.0.0.2'], ['node-b', '127.0.0.3']] as const) {
    const home = await agentHome();
    g.spawn(
      node,
      ['agent', '--join', g.url, '--driver', 'docker', '--name', node, '--labels', `host=${node}`, '--address', address, '--agent-listen', `${address}:0`, '--publish-address', address],
      { GANTRY_HOME: home, GANTRY_TOKEN: joinToken },
    );
    await waitFor(`${node} to join (log: ${g.logOf(node).slice(-1500)})`, async () => {
      const t = await readFile(join(home, 'node', 'node.token'), 'utf8').catch(() => '');
      credential[node] = t.trim();
      return credential[node] !== '';
    }, 60_000);
  }
  await waitFor('both nodes to be ready', async () => {
    const nodes = await g.getJson<{ items: { metadata: { name: string }; status?: { ready?: boolean } }[] }>(['get', 'nodes']);
    return nodes.items.filter((n) => n.status?.ready).length === 2;
  }, 60_000);
  for (const [svc, node, secret] of [['web-a', 'node-a', 'sa'], ['web-b', 'node-b', 'sb']] as const) {
    const r = await g.apply(service(svc, node, secret));
    expect(r.code, r.stderr).toBe(0);
  }
  await waitFor('an instance running on each node', async () => {
    const list = await g.getJson<{ items: { spec: { node?: string }; status?: { phase?: string; hostIP?: string } }[] }>(['get', 'instances']);
    return ['node-a', 'node-b'].every((n) => list.items.some((i) => i.spec.node === n && i.status?.phase === 'Running'));
  }, 120_000);
}, 240_000);

afterAll(async () => {
  await g?.close();
  for (const dir of homes) await rm(dir, { recursive: true, force: true });
});

describe('node identity (two agents joined with join tokens)', () => {
  it('joined each node with its address, and its instances report that address', async () => {
    const nodes = await g.getJson<{ items: { metadata: { name: string }; spec: { address?: string; agentPort?: number } }[] }>(['get', 'nodes']);
    expect(Object.fromEntries(nodes.items.map((n) => [n.metadata.name, n.spec.address]))).toEqual({ 'node-a': '127.0.0.2', 'node-b': '127.0.0.3' });
    const list = await g.getJson<{ items: { spec: { node?: string }; status?: { hostIP?: string } }[] }>(['get', 'instances']);
    for (const i of list.items) expect(i.status?.hostIP).toBe(i.spec.node === 'node-a' ? '127.0.0.2' : '127.0.0.3');
  });

  it("serves each joined agent's log endpoint over HTTPS, reached by the server's client certificate only", async () => {
    const nodes = await g.getJson<{ items: { metadata: { name: string }; status?: { agentUrl?: string } }[] }>(['get', 'nodes']);
    for (const n of nodes.items) expect(n.status?.agentUrl).toMatch(/^https:\/\/127\.0\.0\.[23]:\d+$/);
    const list = await g.getJson<{ items: { metadata: { name: string }; spec: { node?: string } }[] }>(['get', 'instances']);
    const ofA = list.items.find((i) => i.spec.node === 'node-a')?.metadata.name ?? '';
    const logs = await g.cli(['logs', ofA]);
    expect(logs.code, logs.stderr).toBe(0);
    // Straight to the agent with a node credential and no client certificate: cut off in the handshake.
    const agentUrl = nodes.items.find((n) => n.metadata.name === 'node-a')?.status?.agentUrl ?? '';
    const direct = await g.fetch(`${agentUrl}/healthz`, { headers: { authorization: `Bearer ${credential['node-a'] ?? ''}` } }).then(() => 'answered', () => 'refused');
    expect(direct).toBe('refused');
  });

  it("gives each agent's credential 403 on the other node's instances, Node specs, an unused Secret and creating a Service", async () => {
    const list = await g.getJson<{ items: { metadata: { name: string }; spec: { node?: string } }[] }>(['get', 'instances']);
    const ofB = list.items.find((i) => i.spec.node === 'node-b')?.metadata.name ?? '';
    const ofA = list.items.find((i) => i.spec.node === 'node-a')?.metadata.name ?? '';
    const a = credential['node-a'] ?? '';
    expect((await call(a, 'GET', `/api/v1/namespaces/default/instances/${ofA}`)).status).toBe(200);
    expect((await call(a, 'GET', `/api/v1/namespaces/default/instances/${ofB}`)).status).toBe(403);
    expect((await call(a, 'GET', `/api/v1/namespaces/default/instances/${ofB}/files`)).status).toBe(403);
    const ownNode = { apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'node-a', labels: { host: 'node-a' } }, spec: { address: '127.0.0.2', overcommit: { cpu: 100 } } };
    expect((await call(a, 'PUT', '/api/v1/nodes/node-a', ownNode)).status).toBe(403);
    expect((await call(a, 'PUT', '/api/v1/nodes/node-b', { ...ownNode, metadata: { name: 'node-b' }, spec: { address: '127.0.0.3' } })).status).toBe(403);
    expect((await call(a, 'GET', '/api/v1/namespaces/default/secrets/sa')).status).toBe(200);
    const secret = await call(a, 'GET', '/api/v1/namespaces/default/secrets/sb');
    expect(secret.status).toBe(403);
    expect(secret.message).toMatch(/which no instance on node node-a uses/);
    const svc = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'evil' }, spec: { containers: [{ name: 'm', image }] } };
    expect((await call(a, 'POST', '/api/v1/namespaces/default/services', svc)).status).toBe(403);
    const b = credential['node-b'] ?? '';
    expect((await call(b, 'GET', `/api/v1/namespaces/default/instances/${ofA}`)).status).toBe(403);
  });

  it("refuses an agentUrl or address outside the node: agent A cannot point at agent B", async () => {
    const nodes = await g.getJson<{ items: { metadata: { name: string }; spec: { agentPort?: number }; status?: Record<string, unknown> }[] }>(['get', 'nodes']);
    const nodeA = nodes.items.find((n) => n.metadata.name === 'node-a');
    const portB = nodes.items.find((n) => n.metadata.name === 'node-b')?.spec.agentPort;
    const a = credential['node-a'] ?? '';
    const toB = await call(a, 'PUT', '/api/v1/nodes/node-a/status', { status: { ...nodeA?.status, agentUrl: `http://127.0.0.3:${portB ?? 0}` } });
    expect(toB.status).toBe(403);
    expect(toB.message).toMatch(/joined with address 127.0.0.2/);
    expect((await call(a, 'PUT', '/api/v1/nodes/node-a/status', { status: { ...nodeA?.status, address: '127.0.0.3' } })).status).toBe(403);
  });

  it('refuses a join token made for another CA, saying its fingerprint differs', async () => {
    const made = await g.cli(['token', 'create', '--join']);
    const wrong = made.stdout.trim().replace(/^GTJ-1-[0-9a-f]{64}-/, `GTJ-1-${'0'.repeat(64)}-`);
    const home = await agentHome();
    const r = await g.cli(['agent', '--join', g.url, '--driver', 'fake', '--name', 'node-x'], { env: { GANTRY_HOME: home, GANTRY_TOKEN: wrong } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/CA fingerprint differs from the join token's/);
    const nodes = await g.getJson<{ items: { metadata: { name: string } }[] }>(['get', 'nodes']);
    expect(nodes.items.map((n) => n.metadata.name)).not.toContain('node-x');
  });

  it('refuses a revoked node within a second', async () => {
    const a = credential['node-a'] ?? '';
    expect((await call(a, 'GET', '/api/v1/nodes/node-a')).status).toBe(200);
    const t0 = Date.now();
    const r = await g.cli(['node', 'revoke', 'node-a']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/node node-a revoked/);
    let status = 0;
    while (Date.now() - t0 < 1000) {
      status = (await call(a, 'GET', '/api/v1/nodes/node-a')).status;
      if (status === 401) break;
    }
    expect(status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
