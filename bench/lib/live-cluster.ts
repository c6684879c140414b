// A real control plane and hollow nodes as separate processes, for the end-to-end scenarios:
// `gantry server` on 127.0.0.1 (a free port it picks itself and prints) with a temp data dir, and
// one `gantry sim` process per node group (a group can be SIGKILLed alone: node loss). close()
// stops exactly these processes and removes the temp dir; an exit handler SIGKILLs any survivor
// if the bench ends without close().
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttpClient } from '../../src/client/index.js';
import type { GantryClient } from '../../src/client/index.js';
import { freePort } from '../../src/cli/free-port.js';
import { startEtcdMember, type EtcdMember } from '../../src/server/etcd-member.js';
import { ensureClusterTls, loadCertificateAuthority } from '../../src/server/tls.js';
import { ChildHandle } from './child-process.js';
import { sleep } from './sleep.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN_JS = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const SERVER_START_MS = 60_000;
const LISTENING = /listening on (https?:\/\/127\.0\.0\.1:\d+)/;

export interface NodeGroup {
  /** Node names are `<prefix>-0000` ... */
  prefix: string;
  nodes: number;
  seed: number;
}

export interface LiveClusterOptions {
  groups: readonly NodeGroup[];
  racks: number;
  /** `cpu=32,memory=128Gi` */
  capacity: string;
  /** `50ms` */
  startLatency: string;
  /** `15s`: passed to the server as --node-grace-period. */
  nodeGracePeriod: string;
  /** Waiting for the server and the nodes gives up after this. */
  timeoutMs: number;
  /** Leave the temp data dir in place (logs, state.db) instead of removing it. */
  keep: boolean;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
  /**
   * Run the server under `node --cpu-prof`, writing this file when it exits; each sim process is
   * profiled beside it (simProfileName).
   */
  serverProfile?: string | undefined;
  /** etcd: a one-member etcd (TLS, Gantry's flags) is started in the data dir and the server runs on it. */
  store?: 'sqlite' | 'etcd' | undefined;
  /** More `gantry server` flags (the soak's --event-ttl). */
  serverArgs?: readonly string[] | undefined;
}

export interface LiveCluster {
  readonly url: string;
  /** Admin client for the scenario's own requests (applies, lists, polls). */
  readonly client: GantryClient;
  readonly adminToken: string;
  /** The cluster CA's certificate (PEM), which the server's certificate is checked against. */
  readonly ca: string;
  /** The server process now (restartServer replaces it). */
  readonly server: ChildHandle;
  /** By group prefix. */
  readonly sims: ReadonlyMap<string, ChildHandle>;
  readonly dataDir: string;
  /** Server start to every node registered and ready, seconds. */
  readonly registerSeconds: number;
  /**
   * Stops the server (SIGTERM and a wait, or SIGKILL when `crash`) and starts it again on the same
   * address and data dir. Resolves once the new one listens; `stoppedMs` and `listeningMs` are
   * performance.now() stamps of the old one's exit and the new one's listening line.
   */
  restartServer(crash: boolean, signal: AbortSignal): Promise<{ stoppedMs: number; listeningMs: number; oldPid: number }>;
  close(): Promise<void>;
}

/**
 * Builds dist/ if any source is newer (scripts/ensure.sh; with `docker`, it also starts dockerd
 * when no engine answers and builds the test image, as for `npm test`). Its output goes to
 * stderr. It runs in its own process group so an interrupt also stops the npm and tsc it starts.
 */
export async function ensureBuild(signal: AbortSignal, opts: { docker?: boolean } = {}): Promise<void> {
  signal.throwIfAborted();
  const child = spawn('bash', ['scripts/ensure.sh'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ENSURE_DOCKER: opts.docker ? '1' : '0' },
    stdio: ['ignore', 2, 2],
    detached: true,
  });
  const stopGroup = (): void => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  };
  signal.addEventListener('abort', stopGroup, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('exit', resolve);
      child.once('error', reject);
    });
    signal.throwIfAborted();
    if (code !== 0) throw new Error(`scripts/ensure.sh failed (exit ${code ?? 'by signal'}): fix the build (npm run build) and run the bench again`);
  } finally {
    signal.removeEventListener('abort', stopGroup);
  }
}

export async function startLiveCluster(opts: LiveClusterOptions, signal: AbortSignal): Promise<LiveCluster> {
  await ensureBuild(signal);
  const dataDir = await mkdtemp(join(tmpdir(), 'gantry-bench-'));
  const children: ChildHandle[] = [];
  let server: ChildHandle | undefined;
  let etcd: EtcdMember | undefined;
  const killAll = (): void => {
    for (const c of children) c.killNow();
  };
  process.on('exit', killAll);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Nodes first, so the server does not spend its last seconds marking them lost.
      await Promise.all(children.filter((c) => c !== server).map((c) => c.stop()));
      await server?.stop();
      await etcd?.stop();
      process.off('exit', killAll);
      if (opts.keep) opts.progress(`kept ${dataDir} (server.log, sim-*.log, state.db)`);
      else await rm(dataDir, { recursive: true, force: true });
    })();
    return closing;
  };
  try {
    const t0 = performance.now();
    const storeArgs: string[] = [];
    if (opts.store === 'etcd') {
      await ensureClusterTls(dataDir);
      const ca = await loadCertificateAuthority(dataDir);
      etcd = await startEtcdMember({ name: 'bench', dir: join(dataDir, 'etcd'), clientPort: await freePort('127.0.0.1'), peerPort: await freePort('127.0.0.1'), ca });
      await writeFile(join(dataDir, 'etcd-client.crt'), etcd.clientTls.cert);
      await writeFile(join(dataDir, 'etcd-client.key'), etcd.clientTls.key, { mode: 0o600 });
      storeArgs.push('--store', 'etcd', '--etcd-endpoints', etcd.clientUrl, '--etcd-ca', join(dataDir, 'tls', 'ca.crt'), '--etcd-cert', join(dataDir, 'etcd-client.crt'), '--etcd-key', join(dataDir, 'etcd-client.key'));
      opts.progress(`etcd pid ${etcd.pid} at ${etcd.clientUrl}`);
    }
    const startServer = (listen: string, profileName: string | undefined): ChildHandle => {
      const child = new ChildHandle({
        label: 'gantry server',
        command: process.execPath,
        args: [
          // As bin/gantry runs every command: the server spent a tenth of its CPU in scavenges with
          // V8's default 16 MiB semi-spaces (5,000-node rollout 74.155 s with 64, 89-117 s without).
          '--max-semi-space-size=64',
          ...(opts.serverProfile && profileName ? ['--cpu-prof', '--cpu-prof-dir', dirname(opts.serverProfile), '--cpu-prof-name', profileName] : []),
          MAIN_JS, 'server', '--data-dir', dataDir, '--listen', listen, '--node-grace-period', opts.nodeGracePeriod, ...storeArgs, ...(opts.serverArgs ?? []),
        ],
        cwd: REPO_ROOT,
        logPath: join(dataDir, 'server.log'),
      });
      children.push(child);
      return child;
    };
    server = startServer('127.0.0.1:0', opts.serverProfile && basename(opts.serverProfile));
    const [, url = ''] = await server.waitForLine(LISTENING, SERVER_START_MS, signal);
    opts.progress(`server pid ${server.pid} at ${url}, data in ${dataDir}`);
    const adminToken = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
    const caFile = join(dataDir, 'tls', 'ca.crt');
    const ca = await readFile(caFile, 'utf8');
    const client = createHttpClient({ server: url, token: adminToken, ca, timeoutMs: 120_000 });

    const sims = new Map<string, ChildHandle>();
    for (const g of opts.groups) {
      // Hollow nodes join like any node: a join token with a use per node, in the environment.
      const { token: joinToken } = await client.createJoinToken({ uses: g.nodes, ttlSeconds: 3600 });
      const sim = new ChildHandle({
        label: `gantry sim ${g.prefix}`,
        command: process.execPath,
        args: [
          // A bigger young generation: thousands of agents allocate fast, and with the default
          // 16 MiB semi-spaces the sim spent 28% of its CPU in scavenges at 5,000 nodes.
          '--max-semi-space-size=64',
          ...(opts.serverProfile ? ['--cpu-prof', '--cpu-prof-dir', dirname(opts.serverProfile), '--cpu-prof-name', simProfileName(opts.serverProfile, g.prefix)] : []),
          MAIN_JS, 'sim', '--server', url, '--ca', caFile, '--nodes', String(g.nodes), '--racks', String(opts.racks),
          '--capacity', opts.capacity, '--start-latency', opts.startLatency, '--name-prefix', g.prefix, '--seed', String(g.seed),
        ],
        env: { ...process.env, GANTRY_TOKEN: joinToken },
        cwd: REPO_ROOT,
        logPath: join(dataDir, `sim-${g.prefix}.log`),
      });
      children.push(sim);
      sims.set(g.prefix, sim);
      opts.progress(`sim pid ${sim.pid}: ${g.nodes} hollow nodes ${g.prefix}-*`);
    }
    const total = opts.groups.reduce((n, g) => n + g.nodes, 0);
    await waitForReadyNodes(client, total, [server, ...sims.values()], opts.timeoutMs, signal, (ready) =>
      opts.progress(`${ready}/${total} nodes ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
    );
    const registerSeconds = (performance.now() - t0) / 1000;
    const restartServer = async (crash: boolean, restartSignal: AbortSignal): Promise<{ stoppedMs: number; listeningMs: number; oldPid: number }> => {
      const old = server!;
      if (crash) {
        old.killNow();
        await old.exited;
      } else await old.stop();
      const stoppedMs = performance.now();
      children.splice(children.indexOf(old), 1);
      // The same port: agents and clients keep the URL they have. The profile of the run after the
      // restart goes beside the first one's.
      server = startServer(`127.0.0.1:${new URL(url).port}`, opts.serverProfile && basename(opts.serverProfile).replace(/\.cpuprofile$/, '-restarted.cpuprofile'));
      await server.waitForLine(LISTENING, SERVER_START_MS, restartSignal);
      return { stoppedMs, listeningMs: performance.now(), oldPid: old.pid };
    };
    return {
      url,
      client,
      adminToken,
      ca,
      get server() {
        return server!;
      },
      sims,
      dataDir,
      registerSeconds,
      restartServer,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Polls the node list until `count` nodes report ready; fails fast if one of `processes` dies. */
async function waitForReadyNodes(
  client: GantryClient,
  count: number,
  processes: readonly ChildHandle[],
  timeoutMs: number,
  signal: AbortSignal,
  report: (ready: number) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ready = 0;
  let reportedAt = Date.now();
  for (;;) {
    signal.throwIfAborted();
    const dead = processes.find((p) => !p.running);
    if (dead) throw new Error(`${dead.label} ended while nodes registered; its log ends:\n${dead.logTail()}`);
    const { items } = await client.list('Node');
    ready = items.filter((n) => n.status?.ready === true).length;
    if (ready >= count || Date.now() - reportedAt > 5000) {
      report(ready);
      reportedAt = Date.now();
    }
    if (ready >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${count} nodes were ready after ${timeoutMs / 1000} s; raise --timeout or lower --nodes`);
    await sleep(500, signal);
  }
}

/** Where a sim process's profile goes when the server's goes to `serverProfile`: the same folder. */
export function simProfileName(serverProfile: string, prefix: string): string {
  return basename(serverProfile).replace(/^server-/, `sim-${prefix}-`);
}
