// A joined node's identity on disk, in the agent's state dir (`<data dir>/node/`, 0700): where it
// joined, its name, address and agent port, its credential, the cluster CA and its serving
// certificate. Secrets are 0600. `gantry agent` joins once with a join token and restarts from
// these files without it.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPinnedCa, joinCluster } from '../client/join.js';

export interface NodeIdentity {
  server: string;
  node: string;
  address: string;
  agentPort: number;
  /** `gtn_<id>_<secret>`: what the agent presents to the server. */
  credential: string;
  /** What the server presents to this agent's endpoint. */
  endpointToken: string;
  caPem: string;
  certPem?: string | undefined;
  keyPem?: string | undefined;
}

export function identityDir(dataDir: string): string {
  return join(dataDir, 'node');
}

async function put(dir: string, file: string, text: string, mode: number): Promise<void> {
  const path = join(dir, file);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
}

export async function saveIdentity(dir: string, id: NodeIdentity): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await put(dir, 'node.token', `${id.credential}\n`, 0o600);
  await put(dir, 'endpoint.token', `${id.endpointToken}\n`, 0o600);
  await put(dir, 'ca.crt', id.caPem, 0o644);
  if (id.certPem && id.keyPem) {
    await put(dir, 'agent.crt', id.certPem, 0o644);
    await put(dir, 'agent.key', id.keyPem, 0o600);
  }
  await put(dir, 'node.json', `${JSON.stringify({ server: id.server, node: id.node, address: id.address, agentPort: id.agentPort }, null, 2)}\n`, 0o600);
}

/** The identity saved in `dir`, or undefined when this host has not joined. */
export async function loadIdentity(dir: string): Promise<NodeIdentity | undefined> {
  let meta: { server: string; node: string; address: string; agentPort: number };
  try {
    meta = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as typeof meta;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const read = async (file: string): Promise<string | undefined> => readFile(join(dir, file), 'utf8').catch(() => undefined);
  const credential = (await read('node.token'))?.trim();
  const endpointToken = (await read('endpoint.token'))?.trim();
  const caPem = await read('ca.crt');
  if (!credential || !endpointToken || !caPem) throw new Error(`${dir} is incomplete (node.token, endpoint.token, ca.crt): remove it and join again with a new join token`);
  return { ...meta, credential, endpointToken, caPem, certPem: await read('agent.crt'), keyPem: await read('agent.key') };
}

export interface JoinOptions {
  server: string;
  joinToken: string;
  node: string;
  address: string;
  agentPort: number;
  labels?: Record<string, string> | undefined;
}

/** Pins the cluster CA against the join token, joins, and returns the identity (not yet saved). */
export async function joinAsNode(o: JoinOptions): Promise<NodeIdentity> {
  const caPem = await fetchPinnedCa(o.server, o.joinToken);
  const a = await joinCluster(o.server, caPem, { token: o.joinToken, node: o.node, address: o.address, agentPort: o.agentPort, ...(o.labels ? { labels: o.labels } : {}) });
  return { server: o.server, node: a.node, address: o.address, agentPort: o.agentPort, credential: a.credential, endpointToken: a.endpointToken, caPem: a.caPem, certPem: a.certPem, keyPem: a.keyPem };
}
