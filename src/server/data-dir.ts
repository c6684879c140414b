// The server's data directory: the SQLite database and the secrets made at first start. Secrets
// are created with O_EXCL, so two servers racing on one directory cannot end up with two tokens.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ClusterSecrets {
  adminToken: string;
  /**
   * The key each node's agent endpoint secret is derived from (HMAC of the node name): never a
   * credential of its own. A data dir of a Gantry that still had the shared agent token keeps
   * that token's value here, so agents joined before keep their endpoint secrets.
   */
  endpointKey: string;
  clusterId: string;
  /**
   * What the API's TLS session ticket keys are derived from (session-tickets.ts): a key of its own,
   * never handed out (endpoint.key may hold the old shared agent token every node host had).
   */
  ticketKey: string;
}

/** The old shared agent token's value, if this data dir has one (it is no longer accepted anywhere). */
async function legacyAgentToken(dir: string): Promise<string | undefined> {
  const text = await readFile(join(dir, 'agent.token'), 'utf8').catch(() => '');
  return text.trim() || undefined;
}

export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Reads `<dir>/<file>`, or writes `make()` there (mode 0600) when absent. */
async function readOrCreateSecret(dir: string, file: string, make: () => string): Promise<string> {
  const path = join(dir, file);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (text) return text;
    throw new Error(`${path} is empty: delete it to have a new one made, or restore it from a backup`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const value = make();
  try {
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (e) {
    // Another process made it between our read and our write: theirs wins.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw e;
  }
}

export async function ensureClusterSecrets(dir: string): Promise<ClusterSecrets> {
  await ensureDataDir(dir);
  const token = () => randomBytes(32).toString('hex');
  const legacy = await legacyAgentToken(dir);
  return {
    adminToken: await readOrCreateSecret(dir, 'admin.token', token),
    endpointKey: await readOrCreateSecret(dir, 'endpoint.key', () => legacy ?? token()),
    clusterId: await readOrCreateSecret(dir, 'cluster-id', () => randomBytes(6).toString('hex')),
    ticketKey: await readOrCreateSecret(dir, 'ticket.key', token),
  };
}

/**
 * The state file and its WAL and shared-memory files, 0600: made empty with that mode before
 * SQLite opens it (SQLite gives the -wal and -shm files the database file's mode), and tightened
 * when an older Gantry left them 0644.
 */
export async function privateStateFiles(dbPath: string): Promise<void> {
  await (await open(dbPath, 'a', 0o600)).close();
  for (const path of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
    await chmod(path, 0o600).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
