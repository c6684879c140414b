// The log proxy against a fake agent endpoint (node:http on 127.0.0.1).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import { isAppError, type GantryNode } from '../core/index.js';
import { ADMIN, anInstance, aRunningStatus, startHarness, type Harness } from './test-helpers.js';

interface FakeAgent {
  url: string;
  requests: { url: string; auth: string | undefined }[];
  /** Resolves when a following request has been closed by the proxy. */
  followClosed: Promise<void>;
  close(): Promise<void>;
}

async function startFakeAgent(): Promise<FakeAgent> {
  let markClosed: () => void = () => undefined;
  const agent: FakeAgent = {
    url: '',
    requests: [],
    followClosed: new Promise((r) => (markClosed = r)),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    agent.requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    const m = /^\/v1\/containers\/([^/]+)\/log/.exec(req.url ?? '');
    if (!m || m[1] !== 'c0ffee') {
      res.writeHead(404).end('no such container');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
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
afterEach(async () => {
  await h.close();
  await agent?.close();
  agent = undefined;
});

async function withNode(agentUrl: string): Promise<void> {
  const node = await h.store.create<GantryNode>({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
  await h.store.update({ ...node, status: { ready: true, capacity: { cpu: 1000, memory: 2 ** 30 }, driver: 'fake', agentUrl, conditions: [] } });
}

const logUrl = (q = ''): string => `/api/v1/namespaces/default/instances/web-aaaaa/log${q}`;

describe('log proxy', () => {
  it('streams the first container log from the node agent with the agent token', async () => {
    agent = await startFakeAgent();
    h = await startHarness({ agentToken: 'agent-secret' });
    await withNode(agent.url);
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('c0ffee') }));
    const res = await h.call({ method: 'GET', url: logUrl('?tail=5') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('line 1\nline 2\n');
    expect(agent.requests).toEqual([{ url: '/v1/containers/c0ffee/log?tail=5', auth: 'Bearer agent-secret' }]);
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
