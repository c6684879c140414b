// The SQLite side of the store: schema, load at open, and one transaction per batch of changes.
// Only sqlite-store.ts uses it; reads never come here (they are served from the mirror).
import Database from 'better-sqlite3';
import type { AnyObject } from '../core/index.js';
import { deepFreeze } from './deep-freeze.js';
import { SEALED_PREFIX, type SecretBox } from './secret-box.js';
import type { WatchEvent, WatchEventType } from './store.js';
import type { Change } from './txn-planner.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER NOT NULL, data JSON NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  );
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, revision INTEGER NOT NULL, type TEXT NOT NULL,
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, data JSON NOT NULL
  );
  CREATE INDEX IF NOT EXISTS history_revision ON history (revision);
  INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', 2);
`;

/**
 * Version 1 keyed history rows by revision (one revision per change); version 2 gives all changes
 * of a transaction one revision, as etcd does, so rows get a sequence number of their own.
 */
const MIGRATE_1_TO_2 = `
  CREATE TABLE history_v2 (
    seq INTEGER PRIMARY KEY, revision INTEGER NOT NULL, type TEXT NOT NULL,
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, data JSON NOT NULL
  );
  INSERT INTO history_v2 (revision, type, kind, namespace, name, data)
    SELECT revision, type, kind, namespace, name, data FROM history ORDER BY revision;
  DROP TABLE history;
  ALTER TABLE history_v2 RENAME TO history;
  CREATE INDEX history_revision ON history (revision);
  UPDATE meta SET value = 2 WHERE key = 'schema_version';
`;

export interface LoadedState {
  revision: number;
  objects: AnyObject[];
  /** The kept history, oldest first, consecutive revisions. */
  history: WatchEvent[];
  /** The JSON bytes of each history entry. */
  historySizes: number[];
}

export class SqliteDb {
  private readonly db: Database.Database;
  private readonly upsertObject: Database.Statement<[string, string, string, number, string]>;
  private readonly deleteObject: Database.Statement<[string, string, string]>;
  private readonly insertHistory: Database.Statement<[number, string, string, string, string, string]>;
  private readonly trimHistory: Database.Statement<[number]>;
  private readonly setRevision: Database.Statement<[number]>;
  private readonly commitTxn: (changes: readonly Change[], revision: number, keepFrom: number) => void;

  /** `box`: seals Secret data on its way to disk and opens it on load (secret-box.ts); none: stored as is. */
  constructor(
    readonly path: string,
    private readonly historyLimit: number,
    private box?: SecretBox,
  ) {
    this.db = new Database(path);
    try {
      // WAL lets readers of the file (backups, sqlite3 CLI) run beside the writer; NORMAL sync
      // is safe with WAL (a power cut can lose the last commits, never corrupt the file).
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
      this.db.exec(SCHEMA);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.upsertObject = this.db.prepare(
      `INSERT INTO objects (kind, namespace, name, revision, data) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET revision = excluded.revision, data = excluded.data`,
    );
    this.deleteObject = this.db.prepare('DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?');
    this.insertHistory = this.db.prepare(
      'INSERT INTO history (revision, type, kind, namespace, name, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.trimHistory = this.db.prepare('DELETE FROM history WHERE revision <= ?');
    this.setRevision = this.db.prepare("UPDATE meta SET value = ? WHERE key = 'revision'");
    this.commitTxn = this.db.transaction((changes: readonly Change[], revision: number, keepFrom: number) => {
      for (const c of changes) {
        const ns = c.namespace ?? '';
        const data = this.box ? this.box.seal(c.kind, c.json) : c.json;
        if (c.type === 'DELETED') this.deleteObject.run(c.kind, ns, c.name);
        else this.upsertObject.run(c.kind, ns, c.name, c.revision, data);
        this.insertHistory.run(c.revision, c.type, c.kind, ns, c.name, data);
      }
      this.setRevision.run(revision);
      this.trimHistory.run(Math.max(revision - this.historyLimit, keepFrom - 1));
    });
  }

  /** Brings a file written by an older Gantry to the current schema, in one transaction. */
  private migrate(): void {
    const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) return; // a new file
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: number } | undefined;
    const version = row?.value ?? 1;
    if (version > 2) throw new Error(`${this.path} was written by a newer Gantry (schema ${version}; this one knows 2): run that version, or restore a backup`);
    if (version === 1) this.db.transaction(() => this.db.exec(MIGRATE_1_TO_2))();
  }

  load(): LoadedState {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'revision'").get() as { value: number };
    const revision = row.value;
    const open = (kind: string, data: string): string => (this.box ? this.box.open(kind, data).json : data);
    const objects = (this.db.prepare('SELECT kind, data FROM objects ORDER BY rowid').all() as { kind: string; data: string }[]).map(
      (r) => deepFreeze(JSON.parse(open(r.kind, r.data)) as AnyObject),
    );
    // A smaller historyLimit than the file was written with takes effect here.
    const rows = this.db
      .prepare('SELECT revision, type, kind, data FROM history WHERE revision > ? ORDER BY seq')
      .all(revision - this.historyLimit) as { revision: number; type: WatchEventType; kind: string; data: string }[];
    const history = rows.map((r) => ({ type: r.type, revision: r.revision, object: deepFreeze(JSON.parse(open(r.kind, r.data)) as AnyObject) }));
    return { revision, objects, history, historySizes: rows.map((r) => r.data.length) };
  }

  /**
   * Seals every stored Secret (objects and history) with `box`'s primary key, in one transaction,
   * and makes it the box for later writes: Secrets stored in clear before encryption was on, or
   * under an older key (rotation). Freed pages are zeroed (secure_delete) and the WAL is
   * checkpointed and truncated, so no old bytes stay in either file. Returns how many rows changed.
   */
  reseal(box: SecretBox): { objects: number; history: number } {
    // `box` holds the keys rows were sealed with (rotation keeps the old ones in it); rows in clear open as they are.
    const openOld = (kind: string, data: string): { json: string; sealedWith: string | undefined } => box.open(kind, data);
    const objects = this.db.prepare("SELECT namespace, name, data FROM objects WHERE kind = 'Secret'").all() as { namespace: string; name: string; data: string }[];
    const history = this.db.prepare("SELECT seq, data FROM history WHERE kind = 'Secret'").all() as { seq: number; data: string }[];
    const setObject = this.db.prepare("UPDATE objects SET data = ? WHERE kind = 'Secret' AND namespace = ? AND name = ?");
    const setHistory = this.db.prepare('UPDATE history SET data = ? WHERE seq = ?');
    const counts = { objects: 0, history: 0 };
    this.db.pragma('secure_delete = ON');
    try {
      this.db.transaction(() => {
        const current = `"sealedData":"${SEALED_PREFIX}:${box.primaryId}:`;
        for (const r of objects) {
          if (r.data.includes(current)) continue;
          const opened = openOld('Secret', r.data);
          if (opened.sealedWith === box.primaryId) continue;
          setObject.run(box.seal('Secret', opened.json), r.namespace, r.name);
          counts.objects++;
        }
        for (const r of history) {
          if (r.data.includes(current)) continue;
          const opened = openOld('Secret', r.data);
          if (opened.sealedWith === box.primaryId) continue;
          setHistory.run(box.seal('Secret', opened.json), r.seq);
          counts.history++;
        }
      })();
      if (counts.objects + counts.history > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
    this.box = box;
    return counts;
  }

  /**
   * Writes the changes and the new revision in one transaction: all or nothing. The same
   * transaction drops history rows beyond the count bound and below `keepFrom` (the oldest
   * revision the watch hub still keeps, its byte bound): a separate DELETE was a second commit
   * per write, 4% of the server's CPU while 250 lost nodes' instances were replaced.
   */
  commit(changes: readonly Change[], revision: number, keepFrom = 0): void {
    this.commitTxn(changes, revision, keepFrom);
  }

  /** Drops history rows older than `revision` (at close: the file then keeps what memory does). */
  trimHistoryBelow(revision: number): void {
    this.trimHistory.run(revision - 1);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
