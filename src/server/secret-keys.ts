// The keyring that seals Secret data in the state file (src/store/secret-box.ts), kept apart from
// it in `<data dir>/secret.key` (0600; a wider mode is refused at start). One key per line,
// `<id> <32 bytes, base64>`; the first line seals, every line opens. Made at first start;
// `gantry secret-key rotate` puts a new key first, seals every Secret with it, then drops the rest.
// A second server over the same store needs a copy of this file (docs/security.md).
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretKeyRotation } from '../core/index.js';
import { KEY_ID_PATTERN, SecretBox, type SecretKey } from '../store/secret-box.js';

/** What a reseal changed; SQLite also says whether it rebuilt the file (and if not, why). */
export interface Resealed {
  objects: number;
  history: number;
  rebuilt?: boolean;
  rebuildProblem?: string;
}

/** A store that can seal its Secrets again under a new keyring (both backends). */
export interface ResealingStore {
  resealSecrets(box: SecretBox): Resealed | Promise<Resealed>;
}

export const SECRET_KEY_FILE = 'secret.key';

const HEADER = '# Gantry Secret encryption keys (AES-256-GCM): the first line seals, every line opens.\n# Keep this file 0600 and apart from state.db backups; a second server needs a copy.\n';

export function secretKeyPath(dataDir: string): string {
  return join(dataDir, SECRET_KEY_FILE);
}

export function newSecretKey(): SecretKey {
  return { id: `k${randomBytes(4).toString('hex')}`, key: randomBytes(32) };
}

/** The keys in a keyring file's text; throws naming the line that is wrong. */
export function parseSecretKeys(text: string, path: string): SecretKey[] {
  const keys: SecretKey[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [id = '', b64 = '', extra] = line.split(/\s+/);
    const key = Buffer.from(b64, 'base64');
    if (extra !== undefined || !KEY_ID_PATTERN.test(id) || key.length !== 32 || key.toString('base64') !== b64) {
      throw new Error(`${path} line ${i + 1} is not "<id> <32 bytes in base64>": restore the file from a backup (without it, stored Secrets cannot be read)`);
    }
    if (keys.some((k) => k.id === id)) throw new Error(`${path} names key ${id} twice (line ${i + 1})`);
    keys.push({ id, key });
  });
  if (keys.length === 0) throw new Error(`${path} holds no key: restore it from a backup, or delete it only if the store holds no Secret`);
  return keys;
}

export function formatSecretKeys(keys: readonly SecretKey[]): string {
  return HEADER + keys.map((k) => `${k.id} ${k.key.toString('base64')}\n`).join('');
}

/** Writes the keyring atomically (a 0600 temporary file renamed over it). */
export async function writeSecretKeys(dataDir: string, keys: readonly SecretKey[]): Promise<void> {
  const path = secretKeyPath(dataDir);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, formatSecretKeys(keys), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** The data dir's keyring, made at first start; refused when others may read it. */
export async function loadOrCreateSecretKeys(dataDir: string): Promise<SecretKey[]> {
  const path = secretKeyPath(dataDir);
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(formatSecretKeys([newSecretKey()]));
    } finally {
      await file.close();
    }
  } catch (e) {
    // EEXIST: made before (or by another server starting at once): read it.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${path} has mode 0${mode.toString(8)}: other users may read the key that opens every Secret; run chmod 600 ${path}`);
  }
  return parseSecretKeys(await readFile(path, 'utf8'), path);
}

/**
 * Rotation: a new key goes first in the file (old keys kept), every stored Secret is sealed with
 * it, then the old keys leave the file. A crash between the steps leaves a keyring that still
 * opens every row (old keys are dropped only after the reseal committed).
 */
export async function rotateSecretKey(dataDir: string, store: ResealingStore): Promise<SecretKeyRotation> {
  const old = await loadOrCreateSecretKeys(dataDir);
  const fresh = newSecretKey();
  await writeSecretKeys(dataDir, [fresh, ...old]);
  const counts = await store.resealSecrets(new SecretBox([fresh, ...old]));
  await writeSecretKeys(dataDir, [fresh]);
  const dropped = old.map((k) => k.id);
  const notRebuilt =
    counts.rebuildProblem === undefined
      ? ''
      : ` The state file was not rebuilt (${counts.rebuildProblem}): bytes sealed with the removed key may stay in its free pages; rotate again once that is resolved.`;
  return {
    message: `Secrets are sealed with key ${fresh.id} (${counts.objects} objects${counts.history > 0 ? ` and ${counts.history} history entries` : ''} sealed again); removed key${dropped.length === 1 ? '' : 's'} ${dropped.join(', ')} from ${secretKeyPath(dataDir)}. Copy the file to every other server of this store.${notRebuilt}`,
    keyId: fresh.id,
    objects: counts.objects,
    history: counts.history,
    ...(counts.rebuilt !== undefined && { rebuilt: counts.rebuilt }),
    dropped,
  };
}
