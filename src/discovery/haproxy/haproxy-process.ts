// Runs HAProxy in master-worker mode (`-W -S <master socket>`) as a child of Gantry, with its
// config, pid file and sockets in <data dir>/haproxy. Reloads go through the master CLI; HAProxy
// 2.6 answers nothing to `reload` and keeps the old worker when the new config fails to load (a
// port already taken, say), so the outcome is read from `show proc`: the master's reload count
// moves, and its `[failed: N]` counter says whether the new worker started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError, InvalidError, UnavailableError } from '../../core/index.js';
import { parseShowProc, type ProcInfo } from './haproxy-answers.js';
import { MAX_SOCKET_PATH, socketCommand } from './haproxy-socket.js';
import type { WorkerIdentity } from './lb-render.js';

export interface HaproxyPaths {
  /** Who HAProxy's workers run as (lb-render.ts); absent: as the user that runs Gantry. */
  worker?: WorkerIdentity | undefined;
  dir: string;
  config: string;
  pidFile: string;
  masterSocket: string;
  adminSocket: string;
  /** The PID of the Gantry that started the master. */
  ownerFile: string;
}

const WORKER_USER = 'haproxy';
const WORKER_CHROOT = '/var/lib/haproxy';

/** True when /etc/passwd (or /etc/group) has an entry named `name`. */
function hasEntry(file: string, name: string): boolean {
  try {
    return readFileSync(file, 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/**
 * HAProxy's workers drop root the way Debian's own configuration does: user and group haproxy,
 * chroot /var/lib/haproxy (scripts/ensure.sh creates them where the package did not). Only a root
 * Gantry can hand them over; a Gantry that is not root already runs HAProxy without root.
 */
export function workerIdentity(env: { uid: number | undefined; passwd?: string; group?: string; chroot?: string } = { uid: process.getuid?.() }): WorkerIdentity | undefined {
  if (env.uid !== 0) return undefined;
  const chroot = env.chroot ?? WORKER_CHROOT;
  if (!hasEntry(env.passwd ?? '/etc/passwd', WORKER_USER) || !hasEntry(env.group ?? '/etc/group', WORKER_USER) || !existsSync(chroot)) return undefined;
  return { user: WORKER_USER, group: WORKER_USER, chroot };
}

/** Where HAProxy's files go; a clear error when a socket path is too long for a unix socket. */
export function haproxyPaths(dataDir: string, worker: WorkerIdentity | undefined = workerIdentity()): HaproxyPaths {
  const dir = join(dataDir, 'haproxy');
  const paths = { worker, dir, config: join(dir, 'haproxy.cfg'), pidFile: join(dir, 'haproxy.pid'), masterSocket: join(dir, 'master.sock'), adminSocket: join(dir, 'admin.sock'), ownerFile: join(dir, 'owner.pid') };
  for (const p of [paths.masterSocket, paths.adminSocket]) {
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
      throw new InvalidError(`the load balancer's socket path ${p} is ${Buffer.byteLength(p)} bytes; unix sockets take at most ${MAX_SOCKET_PATH}: use a shorter --data-dir (GANTRY_HOME), or --no-lb`);
    }
  }
  return paths;
}

/** The haproxy binary on PATH (or in /usr/sbin, where Debian puts it), or undefined. */
export function findHaproxy(envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...envPath.split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  return undefined;
}

interface Output {
  code: number | null;
  text: string;
}

function runToEnd(bin: string, args: string[]): Promise<Output> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', (e) => resolve({ code: -1, text: e.message }));
    child.on('close', (code) => resolve({ code, text }));
  });
}

/** HAProxy's ALERT lines, shortened: what a user needs to read about a failure. */
function alertsOf(text: string): string {
  const alerts = text
    .split('\n')
    .filter((l) => l.includes('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s*(\([0-9]+\)\s*)?:\s*/, '').trim())
    .filter((l) => !/Fatal errors found in configuration|Exiting\.$/.test(l) || l.includes('cannot bind'));
  return (alerts.length > 0 ? alerts : text.trim().split('\n').slice(-3)).join('; ').slice(0, 1000);
}

/** `haproxy -c`: undefined when the file is valid, else HAProxy's complaint. */
export async function checkConfig(bin: string, file: string): Promise<string | undefined> {
  const r = await runToEnd(bin, ['-c', '-f', file]);
  return r.code === 0 ? undefined : alertsOf(r.text) || `haproxy -c exited with code ${String(r.code)}`;
}

export interface ReloadResult {
  ok: boolean;
  message?: string | undefined;
}

export interface HaproxyProcessOptions {
  bin: string;
  paths: HaproxyPaths;
  logger: Logger;
  /** How long a start or reload may take before it counts as failed; default 15 s. */
  timeoutMs?: number;
  /** Called when a started master exits without being asked to (killed, crashed). */
  onUnexpectedExit?: (exit: HaproxyExit) => void;
}

export interface HaproxyExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class HaproxyProcess {
  private child: ChildProcess | undefined;
  /** The tail of HAProxy's output (for failure messages). */
  private output = '';
  /** Output since the last reload began: where its ALERT lines are. */
  private sinceReload = '';
  private readonly timeoutMs: number;
  /** Set once a start has succeeded, cleared by stop(): an exit in between is unexpected. */
  private serving = false;

  constructor(private readonly opts: HaproxyProcessOptions) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Starts the master (after stopping one left by a crashed Gantry); resolves once a worker serves. */
  async start(): Promise<void> {
    const { paths, bin, logger } = this.opts;
    await mkdir(paths.dir, { recursive: true });
    await stopStale(paths, logger);
    this.output = '';
    this.serving = false;
    const child = spawn(bin, ['-W', '-S', `${paths.masterSocket},mode,600`, '-f', paths.config, '-p', paths.pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (d: Buffer): void => {
      const text = d.toString();
      this.output = (this.output + text).slice(-20_000);
      this.sinceReload = (this.sinceReload + text).slice(-20_000);
      for (const line of text.split('\n')) if (line.trim()) logger.debug({ haproxy: line.trim() }, 'haproxy output');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // Whose HAProxy this is, for the next start's stale check (the pid file names only HAProxy).
    await writeFile(paths.ownerFile, `${process.pid}\n`, { mode: 0o600 });
    child.on('exit', (code, signal) => {
      const unexpected = this.serving && this.child === child;
      this.serving = false;
      if (!unexpected) return logger.info({ code, signal, pid: child.pid }, 'haproxy exited');
      logger.warn({ code, signal, pid: child.pid }, 'haproxy exited unexpectedly');
      this.opts.onUnexpectedExit?.({ pid: child.pid, code, signal });
    });
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new UnavailableError(`haproxy did not start: ${alertsOf(this.output)}`);
      const proc = await this.showProc().catch(() => undefined);
      if (proc && proc.workers.length > 0) {
        logger.info({ pid: child.pid, config: paths.config }, 'haproxy started');
        this.serving = true;
        return;
      }
      await delay(50);
    }
    await this.stop();
    throw new UnavailableError(`haproxy did not start within ${this.timeoutMs} ms: ${alertsOf(this.output)}`);
  }

  /** The master's `show proc`. The master re-executes itself after loading: refused connections are retried briefly. */
  async showProc(): Promise<ProcInfo | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return parseShowProc(await socketCommand(this.opts.paths.masterSocket, 'show proc', 2000));
      } catch (e) {
        if (attempt >= 40 || !this.running) throw e;
        await delay(50);
      }
    }
  }

  /** Reloads the config file; the old worker keeps serving when the new one fails. */
  async reload(): Promise<ReloadResult> {
    const before = await this.showProc();
    if (!before) return { ok: false, message: 'the haproxy master does not answer show proc' };
    this.sinceReload = '';
    // The master re-executes itself: the connection may be reset instead of answered.
    await socketCommand(this.opts.paths.masterSocket, 'reload', 2000).catch(() => '');
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) return { ok: false, message: `haproxy exited during the reload: ${alertsOf(this.output)}` };
      const now = await this.showProc().catch(() => undefined);
      if (now && now.reloads > before.reloads) {
        if (now.failed > 0) return { ok: false, message: alertsOf(this.sinceReload) };
        if (now.workers.some((w) => w.reloads === 0)) return { ok: true };
      }
      await delay(25);
    }
    return { ok: false, message: `no new haproxy worker within ${this.timeoutMs} ms` };
  }

  /** Stops the master (and with it the workers) by its PID. */
  async stop(): Promise<void> {
    const child = this.child;
    this.serving = false;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // HAProxy leaves its sockets behind; a stopped Gantry leaves nothing that looks alive.
    const { pidFile, ownerFile, masterSocket, adminSocket } = this.opts.paths;
    await Promise.all([pidFile, ownerFile, masterSocket, adminSocket].map((f) => rm(f, { force: true })));
  }
}

/** The PID a file starts with, or undefined. */
async function pidIn(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent PID of `pid` (Linux), or undefined. */
async function parentOf(pid: number): Promise<number | undefined> {
  const m = /^PPid:\s*([0-9]+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * A master left by a Gantry that is gone: its PID is in the pid file, its command names our config,
 * and the Gantry that started it (the owner file, else its parent) no longer runs. A master whose
 * owner is alive belongs to a running Gantry: it is left alone and the start fails.
 */
async function stopStale(paths: HaproxyPaths, logger: Logger): Promise<void> {
  const pid = await pidIn(paths.pidFile);
  if (pid === undefined) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('haproxy') || !cmdline.includes(paths.config)) return;
  const owner = (await pidIn(paths.ownerFile)) ?? (await parentOf(pid));
  if (owner !== undefined && owner !== 1 && owner !== process.pid && alive(owner) && (await parentOf(pid)) === owner) {
    throw new ConflictError(`haproxy (pid ${pid}) with this data dir's config belongs to a running process (pid ${owner}): another Gantry uses this data dir; it was left alone`);
  }
  logger.warn({ pid, owner }, 'stopping a haproxy left by an earlier run (its Gantry is gone)');
  process.kill(pid, 'SIGTERM');
  for (let k = 0; k < 100 && existsSync(`/proc/${pid}`); k++) await delay(50);
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  await rm(paths.pidFile, { force: true });
}
