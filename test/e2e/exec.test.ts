// `gantry exec` against the real dockerd: piped stdin, exit codes and stderr passed through, a
// real terminal (tmux) with raw mode and resize, refusals (no ticket, a forged one, a view token,
// a missing instance), the audit line, and the process killed when the client goes away.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeExecFrame, type ExecStatus } from '../../src/core/index.js';
import { docker } from '../support/docker-cli.js';
import { REPO, useGantryUp } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const t = useGantryUp();
const TMUX = `gantry-exec-e2e-${process.pid}`;

afterAll(async () => {
  await run('tmux', ['kill-session', '-t', TMUX]).catch(() => undefined);
});

let instance = '';
async function ready(): Promise<string> {
  if (instance) return instance;
  const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: shell }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "while true; do sleep 1; done"]
      resources: { cpu: 0.05, memory: 32Mi }
`;
  expect((await t.g.apply(yaml)).code).toBe(0);
  const inst = await waitFor('a running shell instance', async () => (await instancesOf(t.g, 'shell')).find((i) => i.status?.phase === 'Running'), 60_000);
  instance = inst.metadata.name;
  return instance;
}

/** A ticket from the API, then the WebSocket opened with it (or refused). */
async function openSession(body: Record<string, unknown>, ticketOverride?: string): Promise<{ ws: WebSocket; frames: Promise<{ out: string; status: ExecStatus | undefined }> }> {
  const name = await ready();
  let ticket = ticketOverride;
  let path = `/api/v1/namespaces/default/instances/${name}/exec`;
  if (ticket === undefined) {
    const r = await t.g.fetch(`${t.g.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${t.g.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    const answer = (await r.json()) as { ticket: string; path: string };
    ticket = answer.ticket;
    path = answer.path;
  }
  const url = new URL(path, t.g.url.replace(/^https/, 'wss'));
  url.searchParams.set('ticket', ticket);
  const ws = new WebSocket(url, { ca: readFileSync(join(t.g.dataDir, 'tls', 'ca.crt'), 'utf8') });
  const frames = new Promise<{ out: string; status: ExecStatus | undefined }>((resolve, reject) => {
    let out = '';
    let status: ExecStatus | undefined;
    ws.on('message', (data: Buffer) => {
      const f = decodeExecFrame(new Uint8Array(data));
      if (f.channel === 1 || f.channel === 2) out += Buffer.from(f.data).toString('utf8');
      if (f.channel === 3) status = f.status;
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('close', () => resolve({ out, status }));
    ws.on('error', (e) => reject(e));
  });
  return { ws, frames };
}

describe('gantry exec', () => {
  it('pipes stdin to a command and prints its output: echo hi | gantry exec I -- cat', async () => {
    const name = await ready();
    const r = await t.g.cli(['exec', name, '--', 'cat'], { input: 'hi\nthere\n' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hi\nthere\n');
    expect(r.code).toBe(0);
  }, 90_000);

  it("passes the process's exit code, stdout and stderr through", async () => {
    const name = await ready();
    const r = await t.g.cli(['exec', name, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.code).toBe(3);
  }, 60_000);

  it('a missing instance or container is a clear 404 naming it', async () => {
    await ready();
    const r = await t.g.cli(['exec', 'no-such-instance', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/instance default\/no-such-instance not found/);
    const c = await t.g.cli(['exec', await ready(), '-c', 'nope', '--', 'true']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/has no container "nope"; its containers are main/);
  }, 60_000);

  it('refuses an upgrade without a ticket, with a forged or a spent one, and a view token at the POST', async () => {
    await expect((await openSession({}, '')).frames).rejects.toThrow('HTTP 401');
    await expect((await openSession({}, 'eyJmb3JnZWQiOnRydWV9.bm90LWEtbWFj')).frames).rejects.toThrow('HTTP 401');
    // A real ticket works once.
    const name = await ready();
    const r = await t.g.fetch(`${t.g.url}/api/v1/namespaces/default/instances/${name}/exec`, { method: 'POST', headers: { authorization: `Bearer ${t.g.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: ['true'] }) });
    const { ticket } = (await r.json()) as { ticket: string };
    const first = await openSession({}, ticket);
    expect((await first.frames).status).toEqual({ reason: 'exited', exitCode: 0 });
    await expect((await openSession({}, ticket)).frames).rejects.toThrow('HTTP 401');

    const made = await t.g.cli(['token', 'create', '--user', 'vera', '--role', 'view', '--namespace', 'default', '--ttl', '1h']);
    expect(made.code, made.stderr).toBe(0);
    const file = join(t.g.dataDir, 'vera.token');
    writeFileSync(file, made.stdout);
    chmodSync(file, 0o600);
    const refused = await t.g.cli(['exec', name, '--', 'true'], { env: { GANTRY_TOKEN_FILE: file } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/role edit is needed in namespace default/);
  }, 60_000);

  it('records each session in the audit log: who, the instance, the container and the command', async () => {
    const name = await ready();
    const r = await t.g.cli(['exec', name, '--', 'echo', 'audited-marker']);
    expect(r.code).toBe(0);
    const res = await t.g.fetch(`${t.g.url}/api/v1/audit`, { headers: { authorization: `Bearer ${t.g.token}` } });
    const audit = (await res.json()) as { items: { verb: string; user: string; name?: string; status: number; detail?: string }[] };
    const line = audit.items.find((e) => e.verb === 'exec' && e.status === 101 && e.detail?.includes('audited-marker'));
    expect(line).toMatchObject({ user: 'admin', name, detail: 'container main: ["echo","audited-marker"]' });
  }, 60_000);

  it('kills the process in the container when the client goes away', async () => {
    const name = await ready();
    const { ws, frames } = await openSession({ command: ['sleep', '4242'], stdin: true });
    const [inst] = await instancesOf(t.g, 'shell');
    const id = inst!.status!.containers[0]!.containerId!;
    await waitFor('sleep 4242 running in the container', async () => (await docker('top', id)).includes('sleep 4242'), 20_000);
    ws.close();
    await frames;
    await waitFor('sleep 4242 gone', async () => !(await docker('top', id)).includes('sleep 4242'), 20_000);
    expect(name).toBeTruthy();
  }, 60_000);

  it('runs an interactive shell in a real terminal: raw mode, resize, exit code', async () => {
    const name = await ready();
    const done = join(t.g.dataDir, 'exec-tty.exit');
    const env = `GANTRY_HOME=${t.g.dataDir} GANTRY_ADDR=${t.g.url}`;
    const cmd = `cd ${REPO} && ${env} ${process.execPath} bin/gantry exec -it ${name} -- sh; echo EXIT=$? > ${done}; sleep 30`;
    await run('tmux', ['new-session', '-d', '-s', TMUX, '-x', '80', '-y', '24', cmd]);
    const screen = async (): Promise<string> => (await run('tmux', ['capture-pane', '-p', '-t', TMUX])).stdout;
    await waitFor('the shell prompt', async () => /[#$]\s*$/m.test(await screen()), 30_000, 200);
    await run('tmux', ['send-keys', '-t', TMUX, 'echo $((6*7))', 'Enter']);
    await waitFor('42 on the screen', async () => /^42\s*$/m.test(await screen()), 10_000, 200);
    await run('tmux', ['send-keys', '-t', TMUX, 'stty size', 'Enter']);
    await waitFor('the size 24 80', async () => /^24 80\s*$/m.test(await screen()), 10_000, 200);
    await run('tmux', ['resize-window', '-t', TMUX, '-x', '100', '-y', '30']);
    await new Promise((r) => setTimeout(r, 500));
    await run('tmux', ['send-keys', '-t', TMUX, 'stty size', 'Enter']);
    await waitFor('the size 30 100 after the resize', async () => /^30 100\s*$/m.test(await screen()), 10_000, 200);
    await run('tmux', ['send-keys', '-t', TMUX, 'exit 3', 'Enter']);
    await waitFor('the CLI to exit', async () => existsSync(done), 15_000, 200);
    expect(readFileSync(done, 'utf8').trim()).toBe('EXIT=3');
  }, 90_000);
});
