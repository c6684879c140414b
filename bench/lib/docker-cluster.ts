// A one-node cluster on this machine's dockerd for the benches that measure real containers
// (`stats`, `docker`): a `gantry server` and one `gantry agent` with the docker driver, each its
// own process with its log in the run's temp dir. stop() ends both and removes every container
// the cluster made (labelled with its cluster id) and the temp dir (unless `keep`).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/cli/free-port.js';
import { createHttpClient, type GantryClient } from '../../src/client/index.js';
import { containersWithLabels, removeContainers } from '../../test/support/docker-cli.js';
import { ChildHandle } from './child-process.js';
import { until } from './until.js';

const MAIN_JS = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface DockerCluster {
  client: GantryClient;
  /** The agent's process (its pid for /proc readings). */
  agent: ChildHandle;
  stop(): Promise<void>;
}

/**
 * Starts the server and the agent (named `nodeName`, with `agentArgs` added), and waits until the
 * node is ready. The caller must stop() it, also when it throws later.
 */
export async function startDockerCluster(opts: { tempPrefix: string; nodeName: string; agentArgs: readonly string[]; signal: AbortSignal; keep?: boolean }): Promise<DockerCluster> {
  const { signal } = opts;
  const dataDir = await mkdtemp(join(tmpdir(), opts.tempPrefix));
  const agentHome = join(dataDir, 'agent');
  await mkdir(agentHome, { recursive: true });
  const port = await freePort('127.0.0.1');
  const url = `https://127.0.0.1:${port}`;
  const server = new ChildHandle({
    label: 'gantry server',
    command: process.execPath,
    args: [MAIN_JS, 'server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--no-lb'],
    cwd: REPO_ROOT,
    logPath: join(dataDir, 'server.log'),
  });
  let agent: ChildHandle | undefined;
  let clusterId = '';
  const stop = async (): Promise<void> => {
    await agent?.stop();
    await server.stop();
    if (clusterId) await removeContainers(await containersWithLabels({ 'io.gantry.cluster': clusterId }));
    if (opts.keep) process.stderr.write(`kept the server's and agent's data and logs in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const token = await until('the server', async () => (await readFile(join(dataDir, 'admin.token'), 'utf8').catch(() => '')).trim() || undefined, 60_000, signal);
    clusterId = await until('the cluster id', async () => (await readFile(join(dataDir, 'cluster-id'), 'utf8').catch(() => '')).trim() || undefined, 30_000, signal);
    // Written after the token and the cluster id: wait for it as for them (it once raced).
    const ca = await until('the cluster CA', async () => (await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8').catch(() => '')) || undefined, 30_000, signal);
    const client = createHttpClient({ server: url, token, ca, timeoutMs: 60_000 });
    await until('the API', async () => ((await client.version()) ? true : undefined), 60_000, signal);
    const { token: joinToken } = await client.createJoinToken({ uses: 1 });
    agent = new ChildHandle({
      label: 'gantry agent',
      command: process.execPath,
      args: [MAIN_JS, 'agent', '--data-dir', agentHome, '--join', url, '--name', opts.nodeName, '--publish-address', '127.0.0.1', ...opts.agentArgs],
      cwd: REPO_ROOT,
      logPath: join(dataDir, 'agent.log'),
      env: { ...process.env, GANTRY_TOKEN: joinToken },
    });
    await until('the node to be ready', async () => ((await client.list('Node')).items.some((n) => n.status?.ready) ? true : undefined), 60_000, signal);
    return { client, agent, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
