// Against a real HAProxy (skipped where it is not installed): the rendered config passes
// `haproxy -c`, slots filled through the runtime API carry traffic, a reload that cannot bind is
// reported as failed while the old worker keeps serving, and a stale master is stopped on start.
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quietLogger } from '../../controllers/shared/test-builders.js';
import { checkConfig, findHaproxy, HaproxyProcess, haproxyPaths, workerIdentity, type HaproxyExit, type HaproxyPaths } from './haproxy-process.js';
import { parseShowStat } from './haproxy-answers.js';
import { socketCommand } from './haproxy-socket.js';
import { buildLbModel } from './lb-model.js';
import { renderConfig, structureOf } from './lb-render.js';
import { runtimeCommands, SlotTable } from './slot-table.js';
import { anExposedService } from './test-services.js';

const bin = findHaproxy();

async function listen(handler: (name: string) => string, name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(handler(name)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

async function waitForPid(file: string): Promise<number> {
  for (let k = 0; k < 200; k++) {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (pid > 1) return pid;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no pid in ${file}`);
}

async function freePort(): Promise<number> {
  const { server, port } = await listen(() => '', 'x');
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!bin)('HAProxy process and runtime API (real haproxy)', () => {
  let dir: string;
  let paths: HaproxyPaths;
  let proc: HaproxyProcess;
  const servers: Server[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-lb-'));
    paths = haproxyPaths(dir);
    await mkdir(paths.dir, { recursive: true });
    proc = new HaproxyProcess({ bin: bin!, paths, logger: quietLogger() });
  });

  afterEach(async () => {
    await proc.stop();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  function modelFor(servicePort: number, extra: { servicePort: number }[] = []) {
    const services = [anExposedService({ expose: [{ port: 'http', servicePort, mode: 'http' }, ...extra.map((e) => ({ port: 'http', servicePort: e.servicePort, mode: 'http' as const }))] })];
    return buildLbModel({ services, options: { address: '127.0.0.1', httpPort: undefined }, endpointCount: () => 2, currentSlots: () => undefined });
  }

  it('serves what the runtime API puts in the slots, reports a reload that cannot bind, and keeps the old config serving', async () => {
    const a = await listen((n) => n, 'a');
    const b = await listen((n) => n, 'b');
    servers.push(a.server, b.server);
    const lbPort = await freePort();
    const model = modelFor(lbPort);
    const slots = new SlotTable();
    const backend = model.backends[0]!.name;
    slots.update(backend, model.backends[0]!.slots, []);
    await writeFile(paths.config, renderConfig(model, paths, (n) => slots.get(n)));
    expect(await checkConfig(bin!, paths.config)).toBeUndefined();
    await proc.start();

    // Nothing in the slots yet: HAProxy has no server to send to.
    expect((await fetch(`http://127.0.0.1:${lbPort}/`)).status).toBe(503);
    const changes = slots.update(backend, 8, [
      { instance: 'a', address: '127.0.0.1', port: a.port },
      { instance: 'b', address: '127.0.0.1', port: b.port },
    ]);
    await socketCommand(paths.adminSocket, changes.flatMap(runtimeCommands));
    const seen = new Set<string>();
    for (let k = 0; k < 10; k++) seen.add(await (await fetch(`http://127.0.0.1:${lbPort}/`)).text());
    expect([...seen].sort()).toEqual(['a', 'b']);
    const stat = parseShowStat(await socketCommand(paths.adminSocket, 'show stat'));
    expect(stat.filter((s) => s.backend === backend && s.server === 'slot1')[0]?.status).toMatch(/^UP/);
    // Run as root (these tests are, on the CI machine): the worker has dropped to user haproxy in
    // its chroot, and the runtime API and health checks above worked all the same.
    if (paths.worker) {
      const worker = (await proc.showProc())!.workers[0]!.pid;
      const status = await readFile(`/proc/${worker}/status`, 'utf8');
      expect(/^Uid:\s+([0-9]+)/m.exec(status)?.[1]).not.toBe('0');
      expect(await readlink(`/proc/${worker}/root`)).toBe(paths.worker.chroot);
    }

    // A second frontend on a port someone else holds: valid for `haproxy -c`, fails to load.
    const holder = await listen(() => 'holder', 'h');
    servers.push(holder.server);
    const bad = modelFor(lbPort, [{ servicePort: holder.port }]);
    expect(structureOf(bad, paths)).not.toBe(structureOf(model, paths));
    await writeFile(paths.config, renderConfig(bad, paths, (n) => slots.get(n)));
    expect(await checkConfig(bin!, paths.config)).toBeUndefined();
    const failed = await proc.reload();
    expect(failed.ok).toBe(false);
    expect(failed.message).toMatch(/cannot bind socket/);
    // The old worker still serves the old frontend with its slots.
    expect(await (await fetch(`http://127.0.0.1:${lbPort}/`)).text()).toMatch(/^[ab]$/);

    // Once the port is free, the same config loads.
    await new Promise((r) => holder.server.close(r));
    servers.splice(servers.indexOf(holder.server), 1);
    expect(await proc.reload()).toEqual({ ok: true });
    expect(await (await fetch(`http://127.0.0.1:${holder.port}/`)).text()).toMatch(/^[ab]$/);
  }, 60_000);

  it('refuses an invalid config with HAProxy’s own complaint', async () => {
    await writeFile(paths.config, 'frontend x\n  bind 127.0.0.1:notaport\n');
    expect(await checkConfig(bin!, paths.config)).toMatch(/notaport|invalid|port/i);
  });

  it('stops a master left behind by an earlier run before starting', async () => {
    const model = modelFor(await freePort());
    await writeFile(paths.config, renderConfig(model, paths, () => []));
    await proc.start();
    const stale = proc.pid!;
    // Another supervisor over the same data dir: as after a crash, the first one never stopped its master.
    const next = new HaproxyProcess({ bin: bin!, paths, logger: quietLogger() });
    await next.start();
    try {
      expect(next.pid).not.toBe(stale);
      await expect(new Promise((r) => setTimeout(r, 200)).then(() => process.kill(stale, 0))).rejects.toThrow();
    } finally {
      await next.stop();
    }
  }, 60_000);

  it('leaves alone a master whose Gantry still runs, and fails the start instead', async () => {
    const model = modelFor(await freePort());
    await writeFile(paths.config, renderConfig(model, paths, () => []));
    // A live parent (another Gantry, here a shell) that started HAProxy over the same data dir.
    const owner = spawn('sh', ['-c', `"$0" -W -S "$1,mode,600" -f "$2" -p "$3"`, bin!, paths.masterSocket, paths.config, paths.pidFile], { stdio: 'ignore' });
    try {
      const master = await waitForPid(paths.pidFile);
      await expect(proc.start()).rejects.toThrow(new RegExp(`haproxy \\(pid ${master}\\).*belongs to a running process \\(pid ${owner.pid}\\)`));
      expect(() => process.kill(master, 0)).not.toThrow();
    } finally {
      const pid = Number((await readFile(paths.pidFile, 'utf8').catch(() => '0')).trim());
      if (pid > 1) process.kill(pid, 'SIGKILL');
      owner.kill('SIGKILL');
    }
  }, 60_000);

  it('reports a master that dies on its own (killed), and not one it stopped itself', async () => {
    await writeFile(paths.config, renderConfig(modelFor(await freePort()), paths, () => []));
    const exits: HaproxyExit[] = [];
    const watched = new HaproxyProcess({ bin: bin!, paths, logger: quietLogger(), onUnexpectedExit: (e) => exits.push(e) });
    await watched.start();
    const pid = watched.pid!;
    process.kill(pid, 'SIGKILL');
    for (let k = 0; k < 100 && exits.length === 0; k++) await new Promise((r) => setTimeout(r, 20));
    expect(exits).toEqual([{ pid, code: null, signal: 'SIGKILL' }]);
    await watched.start();
    await watched.stop();
    expect(exits).toHaveLength(1);
    for (const f of [paths.masterSocket, paths.adminSocket, paths.pidFile, paths.ownerFile]) expect(existsSync(f)).toBe(false);
  }, 60_000);

  it('drops the workers to user haproxy in /var/lib/haproxy only where a root Gantry can', async () => {
    const passwd = join(dir, 'passwd');
    const group = join(dir, 'group');
    await writeFile(passwd, 'root:x:0:0::/root:/bin/sh\nhaproxy:x:102:106::/var/lib/haproxy:/usr/sbin/nologin\n');
    await writeFile(group, 'haproxy:x:106:\n');
    expect(workerIdentity({ uid: 0, passwd, group, chroot: dir })).toEqual({ user: 'haproxy', group: 'haproxy', chroot: dir });
    expect(workerIdentity({ uid: 1000, passwd, group, chroot: dir })).toBeUndefined();
    await writeFile(join(dir, 'passwd-without'), 'root:x:0:0::/root:/bin/sh\n');
    expect(workerIdentity({ uid: 0, passwd: join(dir, 'passwd-without'), group, chroot: dir })).toBeUndefined();
    expect(workerIdentity({ uid: 0, passwd, group, chroot: join(dir, 'missing') })).toBeUndefined();
    const text = renderConfig(modelFor(18080), { adminSocket: '/s', worker: { user: 'haproxy', group: 'haproxy', chroot: '/var/lib/haproxy' } }, () => []);
    expect(text).toContain('  user haproxy\n  group haproxy\n  chroot /var/lib/haproxy\n');
    expect(renderConfig(modelFor(18080), { adminSocket: '/s' }, () => [])).not.toContain('chroot');
  });

  it('names the data dir in the error when a socket path is too long', () => {
    expect(() => haproxyPaths(`/tmp/${'x'.repeat(120)}`)).toThrow(/unix sockets take at most 107.*shorter --data-dir/);
  });
});
