import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AGENT_ROUTES, decodeExecFrame, encodeExecFrame, fillPath, type ExecStatus } from '../../core/index.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { AgentServer, parseListen } from './agent-server.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';

const servers: AgentServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function aServer(exec?: ConstructorParameters<typeof AgentServer>[0]['exec']): Promise<{ server: AgentServer; id: string; driver: FakeDriver }> {
  const driver = new FakeDriver({ nodeName: 'n1' });
  const id = await driver.create({ instance: { namespace: 'default', name: 'web-abcde', uid: 'u1' }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'web-abcde' });
  await driver.start(id);
  const server = new AgentServer({ nodeName: 'n1', driver, token: 'agent-secret', owns: (c) => c === id, logger: silentLogger(), exec });
  servers.push(server);
  await server.listen();
  return { server, id, driver };
}

const auth = { authorization: 'Bearer agent-secret' };

/** Sends raw bytes (fetch cannot send a malformed request line) and returns the status line, or '' if none came within a second. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(got.split('\r\n')[0] ?? '');
    }, 1000);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got.split('\r\n')[0] ?? '');
    });
  });
}

describe('AgentServer routes (core/api/routes.ts AGENT_ROUTES)', () => {
  it.each(Object.values(AGENT_ROUTES).filter((r) => r.id !== AGENT_ROUTES.nodeContainerExec.id).map((r) => [r.id, r] as const))('%s: 401 without a token and with a wrong one, served with the agent token', async (_id, route) => {
    const { server, id } = await aServer();
    const url = `${server.url}${fillPath(route, { id, node: 'n1' })}`;
    expect((await fetch(url, { method: route.method })).status).toBe(401);
    expect((await fetch(url, { method: route.method, headers: { authorization: 'Bearer admin-token' } })).status).toBe(401);
    const ok = await fetch(url, { method: route.method, headers: auth });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });
});

describe('AgentServer', () => {
  it('serves the log of a container this node owns as text', async () => {
    const { server, id } = await aServer();
    const res = await fetch(`${server.url}/v1/containers/${id}/log?tail=2`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('fake: image busybox:1.36\nfake: running\n');
  });

  it('streams a followed log until the container stops', async () => {
    const { server, id, driver } = await aServer();
    const res = await fetch(`${server.url}/v1/containers/${id}/log?follow=1&tail=1`, { headers: auth });
    expect(res.status).toBe(200);
    const text = res.text();
    await driver.stop(id, 0);
    expect(await text).toBe('fake: running\n');
  });

  it('answers 401 without the agent token or with a wrong one', async () => {
    const { server, id } = await aServer();
    expect((await fetch(`${server.url}/v1/containers/${id}/log`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/v1/containers/${id}/log`, { headers: { authorization: 'Bearer agent-secreT' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('answers 404 for containers of other nodes and unknown paths', async () => {
    const { server } = await aServer();
    expect((await fetch(`${server.url}/v1/containers/someone-elses/log`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/v1/other`, { headers: auth })).status).toBe(404);
  });

  it('serves its own containers under /nodes/<its name>, and none under another node name', async () => {
    const { server, id } = await aServer();
    const own = await fetch(`${server.url}/nodes/n1/v1/containers/${id}/log?tail=1`, { headers: auth });
    expect(await own.text()).toBe('fake: running\n');
    const other = await fetch(`${server.url}/nodes/n2/v1/containers/${id}/log`, { headers: auth });
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/this agent serves node n1/);
  });

  it('answers a request line that is not a valid URL with 401 (no token) or 400 (token), and keeps serving', async () => {
    const { server, id } = await aServer();
    expect(await rawRequest(server.url, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 401 Unauthorized');
    const withToken = 'GET //[ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer agent-secret\r\nConnection: close\r\n\r\n';
    expect(await rawRequest(server.url, withToken)).toBe('HTTP/1.1 400 Bad Request');
    const res = await fetch(`${server.url}/v1/containers/${id}/log?tail=1`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fake: running\n');
  });

  it('parses host[:port] listen addresses', () => {
    expect(parseListen(undefined)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('0.0.0.0:7071')).toEqual({ host: '0.0.0.0', port: 7071 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('a:b:c')).toThrow(/host\[:port\]/);
  });
});

/** An exec session on the agent endpoint (WebSocket), with its frames collected. */
function execSession(server: AgentServer, id: string, headers: Record<string, string>, query = 'command=cat&stdin=1'): { ws: WebSocket; result: Promise<{ out: string; status: ExecStatus | undefined; refused?: number }> } {
  const url = `${server.url.replace(/^http/, 'ws')}${fillPath(AGENT_ROUTES.nodeContainerExec, { id, node: 'n1' })}?${query}`;
  const ws = new WebSocket(url, { headers });
  const result = new Promise<{ out: string; status: ExecStatus | undefined; refused?: number }>((resolve) => {
    let out = '';
    let status: ExecStatus | undefined;
    ws.on('message', (data: Buffer) => {
      const f = decodeExecFrame(new Uint8Array(data));
      if (f.channel === 1) out += Buffer.from(f.data).toString('utf8');
      if (f.channel === 3) status = f.status;
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ out, status, refused: res.statusCode });
      res.resume();
    });
    ws.on('close', () => resolve({ out, status }));
    ws.on('error', () => undefined);
  });
  return { ws, result };
}

const send = (ws: WebSocket, frame: Parameters<typeof encodeExecFrame>[0]): void => ws.send(encodeExecFrame(frame));

describe('AgentServer exec sessions (agent.nodeContainerExec)', () => {
  it('refuses an upgrade without the agent token or with a wrong one (401), and a container it does not own (404)', async () => {
    const { server, id } = await aServer();
    expect((await execSession(server, id, {}).result).refused).toBe(401);
    expect((await execSession(server, id, { authorization: 'Bearer admin-token' }).result).refused).toBe(401);
    expect((await execSession(server, 'f'.repeat(64), auth).result).refused).toBe(404);
  });

  it('relays stdin and output, applies a resize, and ends with the exit status when stdin closes', async () => {
    const { server, id, driver } = await aServer();
    const { ws, result } = execSession(server, id, auth, 'command=cat&stdin=1&tty=1');
    await new Promise((r) => ws.once('open', r));
    send(ws, { channel: 4, size: { cols: 120, rows: 40 } });
    send(ws, { channel: 0, data: new TextEncoder().encode('hello') });
    send(ws, { channel: 0, data: new Uint8Array(0) });
    expect(await result).toEqual({ out: 'hello', status: { reason: 'exited', exitCode: 0 } });
    expect(driver.resizes).toEqual([{ id, cols: 120, rows: 40 }]);
    expect(driver.execs.at(-1)).toEqual({ id, command: ['cat'] });
  });

  it('caps concurrent sessions (429 past --exec-max-sessions) and ends an idle one with idle-timeout', async () => {
    const { server, id } = await aServer({ maxSessions: 1, idleTimeoutMs: 150 });
    const first = execSession(server, id, auth);
    await new Promise((r) => first.ws.once('open', r));
    expect((await execSession(server, id, auth).result).refused).toBe(429);
    const ended = await first.result;
    expect(ended.status).toMatchObject({ reason: 'idle-timeout' });
    await waitFor(() => server.exec.sessions === 0, 2000, 'the session slot freed');
  });

  it('a protocol error (a client sending stdout) ends the session saying so', async () => {
    const { server, id } = await aServer();
    const { ws, result } = execSession(server, id, auth);
    await new Promise((r) => ws.once('open', r));
    send(ws, { channel: 1, data: new Uint8Array([1]) });
    expect((await result).status).toMatchObject({ reason: 'error', message: expect.stringContaining('protocol error') });
  });
});
