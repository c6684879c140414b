// Runs the built CLI as a user would (bin/gantry), in a temporary data dir, with ports published
// on 127.0.0.1. Everything a test starts is owned here and cleaned up by `close()`: processes by
// PID, containers by the cluster id label, the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { containersWithLabels, removeContainers, removeVolumes, volumesWithLabels } from './docker-cli.js';
import { ensureTestImage } from './test-image.js';
import { waitFor } from './wait.js';

export const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/gantry');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GantryProcesses {
  readonly procs = new Set<ChildProcess>();
  url = '';
  token = '';
  clusterId = '';

  private constructor(readonly dataDir: string) {}

  static async create(): Promise<GantryProcesses> {
    return new GantryProcesses(await mkdtemp(join(tmpdir(), 'gantry-e2e-')));
  }

  /** Starts a long-running gantry command (up, server, agent); its output goes to a log file. */
  spawn(name: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const log = openSync(join(this.dataDir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, GANTRY_HOME: this.dataDir, GANTRY_LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.procs.add(child);
    child.once('exit', () => this.procs.delete(child));
    return child;
  }

  logOf(name: string): string {
    try {
      return readFileSync(join(this.dataDir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * `gantry up` on a free port, ports published on 127.0.0.1; waits until its node is ready. Its DNS
   * server takes a free port too (unless `extra` says otherwise): test files run side by side.
   */
  async up(extra: string[] = []): Promise<ChildProcess> {
    const port = await freePort();
    this.url = `${extra.includes('--no-tls') ? 'http' : 'https'}://127.0.0.1:${port}`;
    const dns = extra.includes('--dns-listen') ? [] : ['--dns-listen', '127.0.0.1:0'];
    // The load balancer would take port 8080: only tests that ask for it (with a free port) run it.
    const lb = extra.some((a) => a.startsWith('--lb')) ? [] : ['--no-lb'];
    const child = this.spawn('up', ['up', '--listen', `127.0.0.1:${port}`, '--publish-address', '127.0.0.1', '--name', 'e2e-node', ...dns, ...lb, ...extra]);
    await this.waitReady('up');
    await waitFor('the local node to be ready', async () => {
      const r = await this.cli(['get', 'nodes', '-o', 'json']);
      const nodes = JSON.parse(r.stdout) as { items: { status?: { ready?: boolean } }[] };
      return nodes.items.some((n) => n.status?.ready === true);
    }, 60_000);
    return child;
  }

  /** `gantry server` alone on a free port (agents join separately); waits until it answers. */
  async server(extra: string[] = []): Promise<ChildProcess> {
    const port = await freePort();
    this.url = `${extra.includes('--no-tls') ? 'http' : 'https'}://127.0.0.1:${port}`;
    const child = this.spawn('server', ['server', '--listen', `127.0.0.1:${port}`, ...extra]);
    await this.waitReady('server');
    return child;
  }

  /** Waits for /healthz, then reads the admin token and the cluster id. */
  async waitReady(logName: string): Promise<void> {
    await waitFor(`gantry to answer on ${this.url} (log: ${this.logOf(logName).slice(-2000)})`, async () => {
      const r = await this.fetch(`${this.url}/healthz`);
      return r.ok;
    }, 60_000);
    this.token = readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
    this.clusterId = readFileSync(join(this.dataDir, 'cluster-id'), 'utf8').trim();
  }

  /** The cluster CA the server made in the data dir (PEM). */
  caPem(): string {
    return readFileSync(join(this.dataDir, 'tls', 'ca.crt'), 'utf8');
  }

  /**
   * fetch() for the API: https:// URLs are checked against the cluster CA of the data dir (Node 20's
   * fetch takes no CA); http:// goes to fetch as is. The whole body is read before it resolves.
   */
  async fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    if (!url.startsWith('https:')) return fetch(url, init);
    const ca = this.caPem();
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init.method ?? 'GET', headers: init.headers, ca, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const status = res.statusCode ?? 0;
          resolve(new Response([204, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** The port `gantry up` printed for its DNS server on 127.0.0.1. */
  dnsPort(): number {
    const m = /dns:\s+127\.0\.0\.1:([0-9]+)/.exec(this.logOf('up'));
    if (!m?.[1]) throw new Error(`gantry up printed no DNS address; log: ${this.logOf('up').slice(-2000)}`);
    return Number(m[1]);
  }

  /** A join token made through the admin API (what `gantry token create --join --uses N` does). */
  async joinToken(uses = 1): Promise<string> {
    const r = await this.fetch(`${this.url}/api/v1/auth/join-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ uses }),
    });
    if (r.status !== 201) throw new Error(`creating a join token: HTTP ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
  }

  /** The data dir of agent `name` (its node credential is in `<it>/node/` once it joined). */
  agentHome(name: string): string {
    return join(this.dataDir, 'agents', name);
  }

  /**
   * Starts `gantry agent` as node `name` with a data dir of its own: the first start joins the
   * server with a new join token (in GANTRY_TOKEN, never on the command line); later starts run
   * from the credential stored then, as on a real host. Its log is `<name>.log`.
   */
  async startAgent(name: string, args: string[] = []): Promise<ChildProcess> {
    const home = this.agentHome(name);
    await mkdir(home, { recursive: true });
    const joined = existsSync(join(home, 'node', 'node.json'));
    const env: Record<string, string> = { GANTRY_HOME: home };
    if (!joined) env.GANTRY_TOKEN = await this.joinToken();
    return this.spawn(name, ['agent', ...(joined ? [] : ['--join', this.url]), '--name', name, ...args], env);
  }

  /** Runs one CLI command to completion. */
  async cli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return new Promise((res, rej) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: REPO,
        env: { ...process.env, GANTRY_HOME: this.dataDir, GANTRY_ADDR: this.url, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', rej);
      child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Writes `yaml` to a file in the data dir and applies it. */
  async apply(yaml: string): Promise<CliResult> {
    const file = join(this.dataDir, `apply-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    return this.cli(['apply', '-f', file]);
  }

  async getJson<T = unknown>(args: string[]): Promise<T> {
    const r = await this.cli([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`gantry ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Ends every process this harness started, removes this cluster's containers and the data dir. */
  async close(): Promise<void> {
    await Promise.all([...this.procs].map((p) => this.stop(p)));
    if (this.clusterId) {
      await removeContainers(await containersWithLabels({ 'io.gantry.cluster': this.clusterId }));
      // Scratch volumes of instances with init containers (the agent removes them with the instance).
      await removeVolumes(await volumesWithLabels({ 'io.gantry.cluster': this.clusterId }));
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** For a test file: `gantry up` (and the test image) before its tests, full clean-up after. */
export function useGantryUp(): { g: GantryProcesses; image: string } {
  const ctx = {} as { g: GantryProcesses; image: string };
  beforeAll(async () => {
    ctx.image = await ensureTestImage();
    ctx.g = await GantryProcesses.create();
    await ctx.g.up();
  });
  afterAll(async () => {
    await ctx.g?.close();
  });
  return ctx;
}
