// The log proxy against a fake agent endpoint (node:http on 127.0.0.1).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import { shortenFetchBodyTimeout } from '../client/test-helpers.js';
import { isAppError, type GantryNode, type Instance, type InstanceStatus } from '../core/index.js';
import type { JoinDeps } from './join-routes.js';
import { ADMIN, aRunningStatus, startHarness, type Harness } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

interface FakeAgent {
  url: string;
  requests: { url: string; auth: string | undefined }[];
  /** Resolves when a following request has been closed by the proxy. */
  followClosed: Promise<void>;
  close(): Promise<void>;
}

/** `quietMs`: a non-following log sends its second line only after this long. `status`: answer this instead. */
async function startFakeAgent(opts: { quietMs?: number; status?: number } = {}): Promise<FakeAgent> {
  let markClosed: () => void = () => undefined;
  const agent: FakeAgent = {
    url: '',
    requests: [],
    followClosed: new Promise((r) => (markClosed = r)),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    agent.requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    const m = /^\/nodes\/n1\/v1\/containers\/([^/]+)\/log/.exec(req.url ?? '');
    if (!m || m[1] !== 'c0ffee') {
      res.writeHead(404).end('no such container');
      return;
    }
    if (opts.status !== undefined) {
      res.writeHead(opts.status).end('{"error":"unauthorized"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (opts.quietMs !== undefined) {
      res.write('line 1\n');
      setTimeout(() => res.end('line 2\n'), opts.quietMs);
      return;
    }
    res.write('line 1\nline 2\n');
    if (new URL(req.url ?? '', 'http://x').searchParams.get('follow') === '1') {
      res.on('close', () => markClosed());
      return; // keep following until the caller goes away
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agent.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return agent;
}

let h: Harness;
let agent: FakeAgent | undefined;
let restoreFetch: (() => Promise<void>) | undefined;
afterEach(async () => {
  await h.close();
  await agent?.close();
  agent = undefined;
  await restoreFetch?.();
  restoreFetch = undefined;
});

/**
 * Node n1 whose agent the server reaches at `agentUrl`'s address and port (spec.address and
 * spec.agentPort, as fixed at join); undefined: a node without an agent port (no log endpoint).
 * `reported`: the status.agentUrl the agent claims, which the proxy must never use.
 */
async function withNode(agentUrl: string | undefined, reported?: string): Promise<void> {
  const at = agentUrl === undefined ? undefined : new URL(agentUrl);
  const spec = at ? { address: at.hostname, agentPort: Number(at.port) } : { address: '127.0.0.1' };
  const node = await h.store.create<GantryNode>({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec });
  const published = reported !== undefined ? { agentUrl: reported } : {};
  await h.store.update({ ...node, status: { ready: true, capacity: { cpu: 1000, memory: 2 ** 30 }, driver: 'fake', ...published, conditions: [] } });
}

/** Join deps with only what the log proxy uses: each node's endpoint secret (derived from its name). */
const endpointSecrets = (key: string): JoinDeps => ({
  caPem: '',
  caFingerprint: '',
  issueServingCertificate: () => Promise.reject(new Error('no certificates in this test')),
  endpointToken: (node) => `${key}/${node}`,
});

const logUrl = (q = ''): string => `/api/v1/namespaces/default/instances/web-aaaaa/log${q}`;

describe('log proxy', () => {
  it("streams the first container log from the node agent with the node's endpoint secret", async () => {
    agent = await startFakeAgent();
    h = await startHarness({ join: endpointSecrets('agent-secret') });
    await withNode(agent.url);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl('?tail=5') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('line 1\nline 2\n');
    expect(agent.requests).toEqual([{ url: '/nodes/n1/v1/containers/c0ffee/log?tail=5', auth: 'Bearer agent-secret/n1' }]);
  });

  it('asks for the lines up to the end of the previous run with --previous, and 404s a container that has not restarted', async () => {
    agent = await startFakeAgent();
    h = await startHarness({ join: endpointSecrets('agent-secret') });
    await withNode(agent.url);
    const restarted = (c: Partial<InstanceStatus['containers'][number]>): InstanceStatus => aRunningStatus('c0ffee', { containers: [{ name: 'main', containerId: 'c0ffee', state: 'running', restartCount: 1, hostPorts: {}, startedAt: '2026-12-06T00:00:05.000Z', ...c }] });
    const inst = await h.store.create<Instance>(anInstance('web-aaaaa', { node: 'n1', status: restarted({ lastFinishedAt: '2026-12-06T00:00:04.000Z' }) }));
    expect((await h.call({ method: 'GET', url: logUrl('?previous=1') })).statusCode).toBe(200);
    // An agent that does not report lastFinishedAt: the current run's start.
    await h.store.update<Instance>({ ...inst, status: restarted({}) });
    expect((await h.call({ method: 'GET', url: logUrl('?previous=1') })).statusCode).toBe(200);
    expect(agent.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('until'))).toEqual(['2026-12-06T00:00:04.000Z', '2026-12-06T00:00:05.000Z']);
    const fresh = await h.store.get('Instance', 'default', 'web-aaaaa');
    await h.store.update<Instance>({ ...(fresh as Instance), status: aRunningStatus('c0ffee') });
    const res = await h.call({ method: 'GET', url: logUrl('?previous=1') });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain('has not restarted: it has no previous run (drop --previous)');
  });

  it('answers 404 with the next step when the container has not started', async () => {
    h = await startHarness();
    await withNode('http://127.0.0.1:9');
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const res = await h.call({ method: 'GET', url: logUrl() });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe('instance web-aaaaa has no container main yet; see gantry describe instance web-aaaaa');
  });

  it('answers 503 naming the node when its agent cannot be reached', async () => {
    agent = await startFakeAgent();
    const deadUrl = agent.url;
    await agent.close();
    agent = undefined;
    h = await startHarness();
    await withNode(deadUrl);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl() });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toContain('node "n1"');
  });

  it('answers 503 with the next step when the node has no agent port', async () => {
    h = await startHarness();
    await withNode(undefined);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl() });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toBe(
      'node n1 has no agent address and port: its agent runs without a log endpoint, or has not registered yet; see gantry describe node n1',
    );
  });

  it('follows through the client and closes the agent request when the reader stops', async () => {
    agent = await startFakeAgent();
    h = await startHarness();
    await withNode(agent.url);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const client = createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token: ADMIN });
    const ac = new AbortController();
    let text = '';
    for await (const chunk of client.logs('default', 'web-aaaaa', { follow: true }, ac.signal)) {
      text += chunk;
      if (text.includes('line 2\n')) ac.abort();
    }
    expect(text).toBe('line 1\nline 2\n');
    await agent.followClosed; // the proxy let go of the upstream request
  });

  it('keeps a quiet log open longer than fetch would allow between chunks', async () => {
    restoreFetch = await shortenFetchBodyTimeout(150);
    agent = await startFakeAgent({ quietMs: 1600 }); // undici checks its timers about once a second
    h = await startHarness();
    await withNode(agent.url);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl() });
    expect(res.body).toBe('line 1\nline 2\n');
  });

  it('calls the address and port the node joined with, never the agentUrl its agent reports', async () => {
    agent = await startFakeAgent();
    const elsewhere = await startFakeAgent();
    try {
      h = await startHarness({ join: endpointSecrets('agent-secret') });
      await withNode(agent.url, `${elsewhere.url}/latest/meta-data`);
      await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
      expect((await h.call({ method: 'GET', url: logUrl() })).statusCode).toBe(200);
      expect(agent.requests).toHaveLength(1);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it("says so when the agent rejects the node's endpoint secret", async () => {
    agent = await startFakeAgent({ status: 401 });
    h = await startHarness({ join: endpointSecrets('old-secret') });
    await withNode(agent.url);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl() });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toBe("the agent on node n1 rejected the server's endpoint secret: it joined another cluster, or this server's endpoint.key changed");
  });

  it('gives the client a 404 as an AppError', async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const client = createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token: ADMIN });
    const err = await (async () => {
      for await (const _ of client.logs('default', 'nope', {})) void _;
    })().catch((e: unknown) => e);
    expect(isAppError(err, 'NOT_FOUND')).toBe(true);
  });
});
