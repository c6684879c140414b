// The embedded Store: SQLite (WAL) for durability, an in-memory mirror for reads, and a watch
// hub fed after each commit. Every write runs synchronously, one at a time and in call order; a txn
// is one SQLite transaction plus one pass over the mirror. Writes run at once until they have taken
// a turn budget (turn-budget.ts) of one event-loop turn; later ones wait for the next turn, so a
// burst of writes cannot hold requests and timers back.
//
// Objects returned by get, list, watch and the write methods are deep-frozen and shared between
// all callers: never mutate them; copy first (structuredClone, or spread the parts you change).
import { randomUUID } from 'node:crypto';
import { UnavailableError } from '../core/index.js';
import type { AnyObject, Kind, ObjectOf } from '../core/index.js';
import { ObjectMirror } from './object-mirror.js';
import type { SecretBox } from './secret-box.js';
import { SqliteDb, type LoadedState, type ResealCounts } from './sqlite-db.js';
import type { ListOptions, ListResult, NewObject, Store, TxnOp, TxnResult, WatchEvent, WatchOptions } from './store.js';
import { planTxn } from './txn-planner.js';
import type { Change } from './txn-planner.js';
import { DEFAULT_TURN_BUDGET_MS, TurnBudget } from './turn-budget.js';
import { WalCheckpointer, type WalCheckpointerOptions } from './wal-checkpointer.js';
import { WatchHub } from './watch-hub.js';
import type { PublishedChange } from './watch-hub.js';

export interface SqliteStoreOptions {
  /** Changes kept for watches to resume from (default 100,000). */
  historyLimit?: number;
  /** ... and at most this many bytes of them (their JSON; default 256 MiB), whichever is less. */
  historyMaxBytes?: number;
  /** A watch this many events behind its writer ends with EXPIRED (default 200,000). */
  maxWatchBuffer?: number;
  /** ... or holding this many bytes of unread changes (default 64 MiB). */
  maxWatchBytes?: number;
  /** Clock for createdAt; tests pass a fixed one. */
  now?: () => Date;
  /**
   * Seals Secret data on disk (secret-box.ts). At open, Secrets stored in clear or under another
   * key of the box are sealed again with its primary key.
   */
  secretBox?: SecretBox | undefined;
  /** Wall-clock ms writes may take in one event-loop turn before the rest wait (default 10). */
  writeTurnBudgetMs?: number;
  /**
   * Told when close() could not write the watch history (a full or failing disk): the objects are
   * all in the file, but the next open starts with no history and every watch lists again.
   */
  onHistoryNotSaved?: (error: Error) => void;
  /**
   * Told when the file could not be rebuilt after Secrets were sealed again at open (a full disk,
   * a reader holding it): bytes sealed with another key, or in clear, may stay in its free pages.
   */
  onStateFileNotRebuilt?: (problem: string) => void;
  /**
   * Checkpoint the WAL from a worker thread (wal-checkpointer.ts) rather than in the commits that
   * pass SQLite's threshold, on the event loop. Not for ':memory:'. Default off (tests open many
   * stores); the server turns it on.
   */
  backgroundCheckpoints?: boolean;
  /** Between background checkpoints, ms (default 500). */
  checkpointIntervalMs?: number;
  /** Told when background checkpoints fail or stop (the writer then checkpoints itself). */
  onCheckpointProblem?: (message: string) => void;
}

const DEFAULT_HISTORY_LIMIT = 100_000;
/**
 * How far back close() writes the watch history. Bookmarks (every 10 s on a quiet watch) keep
 * each connected watcher's resume point within seconds of now, so a minute covers every watch
 * open at the stop, with room for a client that lags; a client further behind lists again. The
 * whole history (100,000 changes, 68 MiB of JSON) took 1.6 s to write in `npm run bench -- store`,
 * the API down meanwhile (a server stops listening before it closes the store).
 */
export const CLOSE_HISTORY_MS = 60_000;
const DEFAULT_HISTORY_MAX_BYTES = 256 * 2 ** 20;
const DEFAULT_MAX_WATCH_BUFFER = 200_000;

/** Opens (or creates) the store in the file at `path`; ':memory:' for a throwaway store. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, opts);
}

export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  private readonly db: SqliteDb;
  private readonly mirror = new ObjectMirror();
  private readonly hub: WatchHub;
  private readonly now: () => Date;
  private revision: number;
  private readonly historyLimit: number;
  private closed = false;
  private readonly turns: TurnBudget;
  private readonly onHistoryNotSaved: ((error: Error) => void) | undefined;
  private checkpointer: WalCheckpointer | undefined;
  private readonly checkpointing: boolean;
  private readonly checkpointerOptions: WalCheckpointerOptions;

  constructor(
    readonly path: string,
    opts: SqliteStoreOptions = {},
  ) {
    const historyLimit = Math.max(1, Math.floor(opts.historyLimit ?? DEFAULT_HISTORY_LIMIT));
    this.historyLimit = historyLimit;
    this.now = opts.now ?? (() => new Date());
    this.onHistoryNotSaved = opts.onHistoryNotSaved;
    this.turns = new TurnBudget(opts.writeTurnBudgetMs ?? DEFAULT_TURN_BUDGET_MS);
    this.db = new SqliteDb(path, historyLimit, opts.secretBox);
    let loaded: LoadedState;
    try {
      loaded = this.db.load();
      const resealed = opts.secretBox ? this.db.reseal(opts.secretBox) : undefined;
      if (resealed?.rebuildProblem !== undefined) opts.onStateFileNotRebuilt?.(resealed.rebuildProblem);
      // After the reseal (which zeroes the pages of rows it rewrites): the history rows go now.
      this.db.forgetHistory();
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.revision = loaded.revision;
    for (const o of loaded.objects) this.mirror.set(o);
    this.hub = new WatchHub({
      revision: loaded.revision,
      history: loaded.history,
      historySizes: loaded.historySizes,
      historyLimit,
      historyMaxBytes: opts.historyMaxBytes ?? DEFAULT_HISTORY_MAX_BYTES,
      now: () => this.now().getTime(),
      maxBuffered: opts.maxWatchBuffer ?? DEFAULT_MAX_WATCH_BUFFER,
      maxBufferedBytes: opts.maxWatchBytes,
      // One writer: a revision above this file's was never committed to it (a restored backup).
      expireFutureRevisions: true,
    });
    this.checkpointing = opts.backgroundCheckpoints === true && path !== ':memory:';
    this.checkpointerOptions = { onProblem: opts.onCheckpointProblem, intervalMs: opts.checkpointIntervalMs };
    if (this.checkpointing) this.checkpointer = this.startCheckpointer();
  }

  /** The background checkpointer, or none when it cannot start (the writer then checkpoints itself, as without one). */
  private startCheckpointer(): WalCheckpointer | undefined {
    try {
      return new WalCheckpointer(this.path, (pages) => this.db.setAutocheckpoint(pages), this.checkpointerOptions);
    } catch (e) {
      this.checkpointerOptions.onProblem?.(`the WAL checkpoint worker did not start: ${e instanceof Error ? e.message : String(e)}; the writer checkpoints itself`);
      return undefined;
    }
  }

  /** Checkpoints the background worker has run (undefined without one): for tests and metrics. */
  get backgroundCheckpoints(): number | undefined {
    return this.checkpointer?.checkpoints;
  }

  /**
   * Seals every stored Secret with `box`'s primary key (key rotation: `box` also holds the keys
   * they were sealed with) and uses it from now on, then rebuilds the file so no byte sealed with
   * an older key stays in it. The reseal and rebuild are synchronous: no write interleaves (and
   * none is served meanwhile). The background checkpointer stops first (its checkpoint would keep
   * the rebuild from emptying the WAL: SQLite does not wait for a checkpoint in progress) and
   * starts again after.
   */
  async resealSecrets(box: SecretBox): Promise<ResealCounts> {
    this.checkOpen();
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    try {
      this.checkOpen();
      return this.db.reseal(box, { rebuild: true });
    } finally {
      if (this.checkpointing && !this.closed) this.checkpointer = this.startCheckpointer();
    }
  }

  async get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K> | undefined> {
    this.checkOpen();
    return this.mirror.get(kind, namespace, name) as ObjectOf<K> | undefined;
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<ListResult<ObjectOf<K>>> {
    this.checkOpen();
    // Synchronous, so no write can land between the items and the revision.
    return { items: this.mirror.list(kind, opts.namespace, opts.field) as ObjectOf<K>[], revision: this.revision };
  }

  async create<O extends AnyObject>(obj: NewObject<O>): Promise<O> {
    return (await this.write([{ op: 'create', object: obj }]))[0]?.object as O;
  }

  async update<O extends AnyObject>(obj: O): Promise<O> {
    return (await this.write([{ op: 'update', object: obj }]))[0]?.object as O;
  }

  async delete(kind: Kind, namespace: string | undefined, name: string, opts: { revision?: number } = {}): Promise<AnyObject> {
    return ((await this.write([{ op: 'delete', kind, namespace, name, revision: opts.revision }]))[0] as TxnResult).object;
  }

  async txn(ops: readonly TxnOp[]): Promise<TxnResult[]> {
    return this.write(ops);
  }

  /** A txn now, ahead of writes waiting for a later turn (Store.txnNow). */
  async txnNow(ops: readonly TxnOp[]): Promise<TxnResult[]> {
    this.checkOpen();
    return this.turns.runNow(() => this.apply(ops));
  }

  /** Writes that waited for a later event-loop turn (the turn budget), counted since open: for tests and metrics. */
  get deferredWrites(): number {
    return this.turns.deferred;
  }

  /** Writes waiting for a later event-loop turn now. */
  get waitingWrites(): number {
    return this.turns.waiting;
  }

  /** After close() the watch is simply empty, so loops shutting down with the store end quietly. */
  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    return this.hub.watch(opts, signal);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  /** Ends every watch and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Writes accepted before close and waiting for a later turn are written, not dropped.
    this.turns.drainNow();
    this.closed = true;
    try {
      // The history goes to the file only now (commits write objects alone), so the next open
      // can resume every watch open at this stop. A throwaway store (':memory:') has no next open.
      if (this.path !== ':memory:') {
        const rows = this.hub.replayableHistory(CLOSE_HISTORY_MS).map((e) => ({
          type: e.type,
          revision: e.revision,
          kind: e.object.kind,
          namespace: e.object.metadata.namespace,
          name: e.object.metadata.name,
          json: JSON.stringify(e.object),
        }));
        this.db.saveHistory(rows, this.revision);
      }
    } catch (e) {
      // Best effort (a busy or full disk): the file's history then stays marked stale, and the
      // next open starts with none (watches from before it list again). Said, not thrown: the
      // close goes on.
      this.onHistoryNotSaved?.(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.hub.close();
      // The worker's connection first: the writer's close is then the last one, which checkpoints
      // what is left and removes the WAL.
      await this.checkpointer?.stop();
      this.db.close();
    }
  }

  /** Watches currently open: for tests and metrics. */
  get watchCount(): number {
    return this.hub.watcherCount;
  }

  /** Bytes of change history kept for watches (JSON): for tests and metrics. */
  get historyBytes(): number {
    return this.hub.historyBytes;
  }

  /** A write, now or in a later turn (the turn budget); in call order either way. */
  private write(ops: readonly TxnOp[]): Promise<TxnResult[]> {
    this.checkOpen();
    return this.turns.run(() => this.apply(ops));
  }

  /** Plan against the mirror, commit to SQLite, then (only after the commit) apply and publish. */
  private apply(ops: readonly TxnOp[]): TxnResult[] {
    this.checkOpen();
    if (ops.length === 0) return [];
    const changes = planTxn(
      { view: this.mirror, revision: this.revision, now: this.now().toISOString(), newUid: randomUUID },
      ops,
    );
    const revision = this.revision + 1;
    this.db.commit(changes, revision);
    this.revision = revision;
    const events: PublishedChange[] = [];
    const results: TxnResult[] = [];
    for (const c of changes) {
      // The object this change replaces: field watches need it to see an object leave their value.
      const prev = c.type === 'MODIFIED' ? this.mirror.get(c.kind, c.namespace, c.name) : undefined;
      if (c.type === 'DELETED') this.mirror.delete(c.kind, c.namespace, c.name);
      else this.mirror.set(c.object);
      events.push({ type: c.type, revision: c.revision, object: c.object, prev, bytes: c.json.length });
      results.push({ op: opOf(c), object: c.object });
    }
    this.hub.publish(events);
    return results;
  }

  private checkOpen(): void {
    if (this.closed) throw new UnavailableError(`the store at ${this.path} is closed: open it again (openSqliteStore)`);
  }
}

function opOf(c: Change): TxnResult['op'] {
  return c.type === 'ADDED' ? 'create' : c.type === 'MODIFIED' ? 'update' : 'delete';
}
