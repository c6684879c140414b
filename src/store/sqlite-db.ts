// The SQLite side of the store: schema, load at open, one transaction per batch of changes, and
// the watch history written at close. Only sqlite-store.ts uses it; reads never come here (they
// are served from the mirror).
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
  INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('schema_version', 3), ('history_through', 0);
`;

/** The version of the schema and its meaning this code writes (see migrate()). */
const SCHEMA_VERSION = 3;

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

/**
 * Version 3 writes the history table at close, not with every commit (a commit wrote each
 * object twice, once in objects and once in history: half the bytes written, and of the
 * checkpoints' copying and syncing, went to the history), and says in `history_through` up to
 * which revision it is whole. A version 2 file's history is whole up to its revision.
 */
const MIGRATE_2_TO_3 = `
  INSERT OR REPLACE INTO meta (key, value) SELECT 'history_through', value FROM meta WHERE key = 'revision';
  UPDATE meta SET value = 3 WHERE key = 'schema_version';
`;

/** `history_through` while the store is open: the history table is not whole (a crash must not load it). */
const HISTORY_STALE = -1;

/** A change of the kept history, as close() writes it. */
export interface HistoryRow {
  type: WatchEventType;
  revision: number;
  kind: string;
  namespace: string | undefined;
  name: string;
  /** The object's JSON as stored (a Secret is sealed on its way to disk). */
  json: string;
}

/** What reseal() changed, and (when it rebuilt the file or tried to) whether that worked. */
export interface ResealCounts {
  objects: number;
  history: number;
  rebuilt?: boolean;
  /** Why the file was not rebuilt (old bytes may stay in it). */
  rebuildProblem?: string;
}

export interface LoadedState {
  revision: number;
  objects: AnyObject[];
  /** The kept history, oldest first, in revision order (empty unless a close() wrote it whole at this revision). */
  history: WatchEvent[];
  /** The JSON bytes of each history entry. */
  historySizes: number[];
}

export class SqliteDb {
  private readonly db: Database.Database;
  private readonly upsertObject: Database.Statement<[string, string, string, number, string]>;
  private readonly deleteObject: Database.Statement<[string, string, string]>;
  private readonly insertHistory: Database.Statement<[number, string, string, string, string, string]>;
  private readonly clearHistory: Database.Statement<[]>;
  private readonly setRevision: Database.Statement<[number]>;
  private readonly setHistoryThrough: Database.Statement<[number]>;
  private readonly commitTxn: (changes: readonly Change[], revision: number) => void;
  private readonly saveHistoryTxn: (rows: readonly HistoryRow[], revision: number) => void;
  private readonly forgetHistoryTxn: () => void;

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
    this.clearHistory = this.db.prepare('DELETE FROM history');
    this.setRevision = this.db.prepare("UPDATE meta SET value = ? WHERE key = 'revision'");
    this.setHistoryThrough = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('history_through', ?)");
    this.commitTxn = this.db.transaction((changes: readonly Change[], revision: number) => {
      for (const c of changes) {
        const ns = c.namespace ?? '';
        if (c.type === 'DELETED') this.deleteObject.run(c.kind, ns, c.name);
        else this.upsertObject.run(c.kind, ns, c.name, c.revision, this.box ? this.box.seal(c.kind, c.json) : c.json);
      }
      this.setRevision.run(revision);
    });
    this.forgetHistoryTxn = this.db.transaction(() => {
      this.clearHistory.run();
      this.setHistoryThrough.run(HISTORY_STALE);
    });
    this.saveHistoryTxn = this.db.transaction((rows: readonly HistoryRow[], revision: number) => {
      this.clearHistory.run();
      for (const r of rows) this.insertHistory.run(r.revision, r.type, r.kind, r.namespace ?? '', r.name, this.box ? this.box.seal(r.kind, r.json) : r.json);
      this.setHistoryThrough.run(revision);
    });
  }

  /** Brings a file written by an older Gantry to the current schema, in one transaction. */
  private migrate(): void {
    const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) return; // a new file
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: number } | undefined;
    const version = row?.value ?? 1;
    if (version > SCHEMA_VERSION) throw new Error(`${this.path} was written by a newer Gantry (schema ${version}; this one knows ${SCHEMA_VERSION}): run that version, or restore a backup`);
    this.db.transaction(() => {
      if (version === 1) this.db.exec(MIGRATE_1_TO_2);
      if (version <= 2) this.db.exec(MIGRATE_2_TO_3);
    })();
  }

  /** Reads objects, revision and (when a close() wrote it at this revision) the history. */
  load(): LoadedState {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'revision'").get() as { value: number };
    const revision = row.value;
    const through = this.db.prepare("SELECT value FROM meta WHERE key = 'history_through'").get() as { value: number } | undefined;
    // Not written by a close() at this revision (a crash, a kill): no history, and a watch from
    // before the revision is answered EXPIRED (list again).
    const historyWhole = through?.value === revision;
    const open = (kind: string, data: string): string => (this.box ? this.box.open(kind, data).json : data);
    const objects = (this.db.prepare('SELECT kind, data FROM objects ORDER BY rowid').all() as { kind: string; data: string }[]).map(
      (r) => deepFreeze(JSON.parse(open(r.kind, r.data)) as AnyObject),
    );
    // A smaller historyLimit than the file was written with takes effect here.
    const rows = historyWhole
      ? (this.db
          .prepare('SELECT revision, type, kind, data FROM history WHERE revision > ? ORDER BY seq')
          .all(revision - this.historyLimit) as { revision: number; type: WatchEventType; kind: string; data: string }[])
      : [];
    const history = rows.map((r) => ({ type: r.type, revision: r.revision, object: deepFreeze(JSON.parse(open(r.kind, r.data)) as AnyObject) }));
    return { revision, objects, history, historySizes: rows.map((r) => r.data.length) };
  }

  /**
   * Seals every stored Secret (objects and history) with `box`'s primary key, in one transaction,
   * and makes it the box for later writes: Secrets stored in clear before encryption was on, or
   * under an older key (rotation). Then, when a row changed or `rebuild` says so, the file is
   * rebuilt (VACUUM) and the WAL checkpointed and truncated, so no old bytes stay in either file:
   * secure_delete zeroes the rows the reseal rewrites, but not what a page that split kept of its
   * old content, nor Secrets deleted earlier (their cells freed, not zeroed). A rotation asks for
   * the rebuild always (a deleted Secret's bytes are under the key it drops). Synchronous: on a
   * big file the rebuild takes seconds. Returns how many rows changed.
   */
  reseal(box: SecretBox, opts: { rebuild?: boolean } = {}): ResealCounts {
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
      // Committed: later writes seal with the new key, whatever the rebuild does.
      this.box = box;
      if (opts.rebuild || counts.objects + counts.history > 0) return { ...counts, ...this.rebuild() };
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
    return counts;
  }

  /**
   * Rebuilds the file (VACUUM) and empties the WAL into it. Never throws: a full disk (VACUUM
   * needs room for a copy) or a reader holding an old snapshot (a backup, the sqlite3 shell: the
   * checkpoint cannot finish) leaves old bytes in the file, and the caller says so.
   */
  private rebuild(): { rebuilt: boolean; rebuildProblem?: string } {
    try {
      this.db.exec('VACUUM');
      const [cp] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      if (cp && cp.busy !== 0) return { rebuilt: false, rebuildProblem: 'another connection is reading the state file (a backup, the sqlite3 shell), so its WAL could not be emptied into it' };
      return { rebuilt: true };
    } catch (e) {
      return { rebuilt: false, rebuildProblem: e instanceof Error ? e.message : String(e) };
    }
  }

  /**
   * Empties the file's history and marks it stale until the next close(), before the first
   * commit: loaded, its rows are of no more use, and a crash after that must not load them.
   * While the store is open the file holds no history (and no copy of a Secret there).
   */
  forgetHistory(): void {
    // Zeroed, not just freed: the rows hold Secrets sealed with today's key, and a key rotated
    // out later must leave the file (reseal() finds no history rows to rewrite while open).
    this.db.pragma('secure_delete = ON');
    try {
      this.forgetHistoryTxn();
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
  }

  /** Writes the changes' objects and the new revision in one transaction: all or nothing. */
  commit(changes: readonly Change[], revision: number): void {
    this.commitTxn(changes, revision);
  }

  /**
   * Replaces the file's history with `rows` (the watch hub's, oldest first) and marks it whole
   * up to `revision`, in one transaction: at close, so the next open can resume watches.
   */
  saveHistory(rows: readonly HistoryRow[], revision: number): void {
    this.saveHistoryTxn(rows, revision);
  }

  /** Sets the WAL size (pages) at which a commit checkpoints (wal-checkpointer.ts moves it). */
  setAutocheckpoint(pages: number): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
