// Backups of the store (docs/operate.md, "Backups"; docs/ha.md for etcd).
// - SQLite: SQLite's online backup API copies state.db while the server runs (WAL lets a second
//   reader in); restoring is offline: the server is stopped and the file put in place.
// - etcd: an etcd snapshot through the maintenance API, taken from a running member; restoring is
//   etcd's own offline step (`etcdctl snapshot restore` per member), then the servers start on it.
// Secret data stays sealed in both (it is sealed in the file and in etcd), so a restore needs the
// same secret.key.
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, rename, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { InvalidError, UnavailableError } from '../core/index.js';
import { etcdClientOptions, prefixEnd } from './etcd-store.js';

export interface BackupSummary {
  file: string;
  bytes: number;
  /** The store revision the backup holds. */
  revision: number;
  objects?: number | undefined;
}

/** Copies a live state.db to `file` with SQLite's online backup (consistent at one revision). */
export async function backupSqlite(statePath: string, file: string): Promise<BackupSummary> {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    await db.backup(file);
  } finally {
    db.close();
  }
  await chmod(file, 0o600);
  const check = inspectSqlite(file);
  return { file, bytes: (await stat(file)).size, ...check };
}

/** The revision and object count of a Gantry state file; InvalidError when it is not one. */
export function inspectSqlite(file: string): { revision: number; objects: number } {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new InvalidError(`${file} cannot be opened as SQLite: ${(e as Error).message}`, [{ path: 'file', message: 'give a file made by gantry backup' }]);
  }
  try {
    const rev = db.prepare("SELECT value FROM meta WHERE key = 'revision'").get() as { value: number } | undefined;
    const objects = db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number };
    if (!rev) throw new Error('no revision');
    return { revision: rev.value, objects: objects.n };
  } catch {
    throw new InvalidError(`${file} is not a Gantry state file (no objects table or revision)`, [{ path: 'file', message: 'give a file made by gantry backup' }]);
  } finally {
    db.close();
  }
}

/**
 * Puts a backup in place of `statePath` (the server must be stopped: the caller holds the data
 * dir's lock). The current file, if any, is kept beside it as `<state>.before-restore-<time>`.
 *
 * Revisions go on past the replaced file's (`startsAt`), and the restored file has no watch
 * history: a client that saw changes the backup does not have (its revision from the replaced
 * file) is then answered EXPIRED and lists again. Left at the backup's revision, the next writes
 * would reuse the numbers it saw, and a watch resumed from one of them would skip changes.
 */
export async function restoreSqlite(file: string, statePath: string, now = new Date()): Promise<BackupSummary & { kept?: string | undefined; startsAt: number }> {
  const check = inspectSqlite(file);
  let kept: string | undefined;
  let replacedRevision = 0;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  if (await exists(statePath)) {
    kept = `${statePath}.before-restore-${stamp}`;
    await rename(statePath, kept);
    for (const suffix of ['-wal', '-shm']) if (await exists(statePath + suffix)) await rename(statePath + suffix, `${kept}${suffix}`);
    // Read with its WAL (renamed alongside): its last commits count too. A file that is not a state file counts as none.
    try {
      replacedRevision = inspectSqlite(kept).revision;
    } catch {
      replacedRevision = 0;
    }
  }
  await copyFile(file, statePath);
  await chmod(statePath, 0o600);
  const startsAt = kept === undefined ? check.revision : Math.max(check.revision, replacedRevision + 1);
  const db = new Database(statePath);
  try {
    db.transaction(() => {
      db.prepare("UPDATE meta SET value = ? WHERE key = 'revision'").run(startsAt);
      // No history: whatever a client resumes from before startsAt is EXPIRED (schema 3 reads
      // history_through; an older file's migration marks its empty history whole at startsAt).
      db.exec('DELETE FROM history');
      if (db.prepare("SELECT 1 FROM meta WHERE key = 'history_through'").get()) db.prepare("UPDATE meta SET value = -1 WHERE key = 'history_through'").run();
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { file, bytes: (await stat(statePath)).size, ...check, kept, startsAt };
}

/** An etcd snapshot of the member behind `endpoints` (the first that answers) to `file`. */
export async function snapshotEtcd(opts: { endpoints: readonly string[]; tls?: { ca: string; cert: string; key: string } | undefined }, file: string): Promise<BackupSummary> {
  const client = new Etcd3(etcdClientOptions(opts.endpoints, opts.tls));
  try {
    const status = await client.maintenance.status();
    const snapshot = await client.maintenance.snapshot();
    const out = createWriteStream(file, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      snapshot.on('data', (chunk: { blob: Buffer }) => out.write(chunk.blob));
      snapshot.on('error', (e: Error) => {
        out.destroy();
        reject(e);
      });
      snapshot.on('end', () => out.end(() => resolve()));
      out.on('error', reject);
    });
    return { file, bytes: (await stat(file)).size, revision: Number(status.header.revision) };
  } catch (e) {
    throw new UnavailableError(`could not take an etcd snapshot from ${opts.endpoints.join(',')}: ${(e as Error).message}`);
  } finally {
    client.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves a SQLite state file (a backup, or state.db of a stopped server) into an empty etcd
 * cluster prefix: every object keeps its uid, createdAt and content (Secrets stay sealed with the
 * same key); revisions start over at etcd's. Refuses a prefix that holds objects already.
 */
export async function importSqliteIntoEtcd(
  file: string,
  opts: { endpoints: readonly string[]; tls?: { ca: string; cert: string; key: string } | undefined; prefix: string },
): Promise<{ objects: number; revision: number }> {
  inspectSqlite(file);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const rows = db.prepare('SELECT kind, namespace, name, data FROM objects ORDER BY rowid').all() as { kind: string; namespace: string; name: string; data: string }[];
  db.close();
  const client = new Etcd3(etcdClientOptions(opts.endpoints, opts.tls));
  const objectsPrefix = `${opts.prefix}objects/`;
  try {
    const held = await client.kv.range({ key: Buffer.from(objectsPrefix), range_end: prefixEnd(Buffer.from(objectsPrefix)), count_only: true });
    if (Number(held.count) > 0) {
      throw new InvalidError(`etcd already holds ${held.count} objects under ${objectsPrefix}: import only into an empty prefix (another --etcd-prefix, or a new etcd)`, [
        { path: 'etcdPrefix', message: 'must hold no objects' },
      ]);
    }
    let revision = Number(held.header.revision);
    for (let i = 0; i < rows.length; i += IMPORT_PUTS_PER_TXN) {
      const chunk = rows.slice(i, i + IMPORT_PUTS_PER_TXN);
      const res = await client.kv.txn({
        compare: chunk.map((r) => ({ key: Buffer.from(`${objectsPrefix}${r.kind}/${r.namespace}/${r.name}`), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
        success: chunk.map((r) => ({ request_put: { key: Buffer.from(`${objectsPrefix}${r.kind}/${r.namespace}/${r.name}`), value: Buffer.from(r.data) } })),
        failure: [],
      });
      if (!res.succeeded) throw new UnavailableError(`objects appeared under ${objectsPrefix} during the import: is a Gantry server running on it? Stop it and import into an empty prefix`);
      revision = Number(res.header.revision);
    }
    return { objects: rows.length, revision };
  } finally {
    client.close();
  }
}

/** Puts per etcd transaction of an import (within Gantry's --max-txn-ops of 2048). */
const IMPORT_PUTS_PER_TXN = 500;
