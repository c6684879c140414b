// An informer for one kind over a ListWatch (the Store in the server, the HTTP client in agents,
// the CLI and the simulator): list, then watch from the list's revision; after a broken or ended
// watch, wait (backoff with jitter) and resume from the last revision seen, BOOKMARKs included,
// so nothing is missed or repeated; when the source says EXPIRED, list again. It keeps a cache of
// the objects (for resync and for readers that may see slightly stale state safely) and calls
// handlers. Controllers' handlers only enqueue keys: they re-read state, never act on payloads.
//
//    list ──> cache + handlers ──> watch from R ──event──> cache + handlers, R = ev.revision
//      ^                             │  BOOKMARK ──> R = bm.revision
//      │                             ├─ cut / ended / error ──> sleep(backoff) ──> watch from R
//      └──────── EXPIRED ────────────┘
import { FailureStreak } from './failure-streak.js';
import { forEachSliced } from './sliced.js';
import type { Logger } from 'pino';
import { isAppError, objectKey, sleep, type Kind, type ListWatch, type ListWatchOptions, type ObjectOf } from '../core/index.js';

export interface InformerHandlers<O> {
  onAdd?: (obj: O) => void;
  /** Also called with (obj, obj) on every resync. */
  onUpdate?: (oldObj: O, newObj: O) => void;
  onDelete?: (obj: O) => void;
  /**
   * The complete state after every list (the first, and each one after EXPIRED). A handler that
   * has onSync gets a list only here, not as one onAdd/onUpdate/onDelete per difference: it
   * reconciles to the level itself (the agent does, to find containers nobody wants). The
   * informer waits for it; if it throws, the informer lists again after a pause.
   */
  onSync?: (items: O[], revision: number) => void | Promise<void>;
}

export interface InformerOptions<K extends Kind> {
  /** Where objects come from: a Store, or a GantryClient. */
  source: ListWatch;
  kind: K;
  /** Only this namespace and/or this field (see FieldSelector in core). */
  select?: ListWatchOptions | undefined;
  /** Where retries and handler failures are logged; absent: nowhere (the CLI's `events -w`). */
  logger?: Logger | undefined;
  /** Every this often, onUpdate(obj, obj) for every cached object; 0 or absent turns resync off. */
  resyncIntervalMs?: number | undefined;
  /** First pause before resuming after a watch error or end; doubles up to maxRetryDelayMs. Default 200 ms. */
  retryDelayMs?: number | undefined;
  /** Cap on the pause; default 5 s. */
  maxRetryDelayMs?: number | undefined;
  /**
   * Watch without status-only changes (KindWatchOptions.omitStatusChanges): the cache then holds
   * each object's status as it was at its last other change. For a reader of spec only.
   */
  omitStatusChanges?: boolean | undefined;
}

const DEFAULT_RETRY_DELAY_MS = 200;
const DEFAULT_MAX_RETRY_DELAY_MS = 5_000;

export class Informer<K extends Kind> {
  private readonly cache = new Map<string, ObjectOf<K>>();
  private readonly handlers: InformerHandlers<ObjectOf<K>>[] = [];
  private revision = 0;
  /** Where a watch (re)starts: every change up to here is in the cache. */
  private resumeFrom = 0;
  private syncedResolve: () => void = () => {};
  /** Resolves after the first list has been delivered to the handlers. */
  readonly synced: Promise<void> = new Promise<void>((r) => (this.syncedResolve = r));

  constructor(private readonly opts: InformerOptions<K>) {}

  addHandlers(h: InformerHandlers<ObjectOf<K>>): void {
    this.handlers.push(h);
  }

  /** The cached objects: as fresh as the watch, which may lag the source slightly. */
  list(): ObjectOf<K>[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): ObjectOf<K> | undefined {
    return this.cache.get(objectKey(this.opts.kind, namespace, name));
  }

  /** The revision the cache is consistent with. */
  get lastRevision(): number {
    return this.revision;
  }

  /** Runs until `signal` aborts; resolves then. Never rejects: failures are logged and retried. */
  async run(signal: AbortSignal): Promise<void> {
    const { source, kind, logger } = this.opts;
    const log = logger?.child({ kind, namespace: this.opts.select?.namespace });
    const resyncMs = this.opts.resyncIntervalMs ?? 0;
    // One resync at a time: a pass that yields may still run when the next interval fires.
    let resyncing = false;
    const resync =
      resyncMs > 0
        ? setInterval(() => {
            if (resyncing) return;
            resyncing = true;
            void this.resync(signal).finally(() => (resyncing = false));
          }, resyncMs)
        : undefined;
    const initialDelay = this.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    const maxDelay = Math.max(initialDelay, this.opts.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
    let delay = initialDelay;
    // One warn when the watch starts failing, one info when it works again (not a line per retry).
    const streak = new FailureStreak(log, { recovered: 'watch resumed' });
    // Jitter: thousands of watchers cut at once (a server restart) must not come back at once.
    const pause = async (): Promise<void> => {
      await sleep(delay / 2 + (Math.random() * delay) / 2, signal);
      delay = Math.min(delay * 2, maxDelay);
    };
    try {
      let needList = true;
      while (!signal.aborted) {
        try {
          if (needList) {
            const listed = await source.list(kind, this.opts.select);
            delay = initialDelay;
            streak.succeeded({ revision: listed.revision });
            needList = false;
            if (!(await this.relist(listed.items, listed.revision, log))) {
              needList = true;
              await pause();
              continue;
            }
            this.syncedResolve();
          }
          // Changes up to here were in the cache before this (re)connect: a replay of them is skipped.
          const replayUpTo = this.revision;
          for await (const ev of source.watch({ ...this.opts.select, kind, fromRevision: this.resumeFrom, ...(this.opts.omitStatusChanges && { omitStatusChanges: true }) }, signal)) {
            delay = initialDelay; // the connection works
            streak.succeeded({ revision: this.revision });
            if (ev.type === 'BOOKMARK') {
              this.resumeFrom = ev.revision;
            } else {
              // A revision can carry several changes (one etcd transaction): a stream cut between
              // them resumes from the revision before, and the changes seen already are skipped.
              if (!(ev.revision <= replayUpTo && this.seenAlready(ev.type, ev.object as ObjectOf<K>))) this.apply(ev.type, ev.object as ObjectOf<K>);
              this.resumeFrom = ev.revision - 1;
            }
            this.revision = Math.max(this.revision, ev.revision);
          }
          if (signal.aborted) break;
          // The stream ended without an abort (a server or store closing, restarting): pause, resume.
          log?.debug({ revision: this.revision, retryInMs: delay }, 'watch ended; resuming');
          await pause();
        } catch (err) {
          if (signal.aborted) break;
          if (isAppError(err, 'EXPIRED')) {
            log?.info({ revision: this.revision }, 'watch expired; listing again');
            needList = true;
            continue;
          }
          streak.failed({ revision: this.revision, err, retryInMs: delay }, 'watch failed; resuming');
          await pause();
        }
      }
    } finally {
      if (resync) clearInterval(resync);
    }
  }

  /** Puts a complete list into the cache and tells the handlers; false if an onSync handler failed. */
  private async relist(items: ObjectOf<K>[], revision: number, log: Logger | undefined): Promise<boolean> {
    const seen = new Set<string>();
    const diffs: ((h: InformerHandlers<ObjectOf<K>>) => void)[] = [];
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) diffs.push((h) => h.onAdd?.(obj));
      else if (old.metadata.revision !== obj.metadata.revision) diffs.push((h) => h.onUpdate?.(old, obj));
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      diffs.push((h) => h.onDelete?.(old));
    }
    this.revision = revision;
    this.resumeFrom = revision;
    let ok = true;
    for (const h of this.handlers) {
      if (h.onSync) {
        try {
          await h.onSync(items, revision);
        } catch (err) {
          log?.error({ err }, 'informer sync handler threw; listing again');
          ok = false;
        }
      } else {
        await forEachSliced(diffs, (diff) => this.call(h, diff));
      }
    }
    return ok;
  }

  /** A change replayed after a resume that the cache holds already. */
  private seenAlready(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: ObjectOf<K>): boolean {
    const held = this.cache.get(keyOf(obj));
    return type === 'DELETED' ? held === undefined : held !== undefined && held.metadata.revision >= obj.metadata.revision;
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: ObjectOf<K>): void {
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit((h) => h.onDelete?.(obj));
      return;
    }
    this.cache.set(key, obj);
    if (old) this.emit((h) => h.onUpdate?.(old, obj));
    else this.emit((h) => h.onAdd?.(obj));
  }

  /** onUpdate(obj, obj) for every cached object, in slices (an object changed meanwhile is resynced as it is now). */
  private async resync(signal: AbortSignal): Promise<void> {
    await forEachSliced(this.cache.values(), (obj) => this.emit((h) => h.onUpdate?.(obj, obj)), signal);
  }

  private emit(call: (h: InformerHandlers<ObjectOf<K>>) => void): void {
    for (const h of this.handlers) this.call(h, call);
  }

  /** A handler that throws is a bug: logged, and the others still hear of the change. */
  private call(h: InformerHandlers<ObjectOf<K>>, call: (h: InformerHandlers<ObjectOf<K>>) => void): void {
    try {
      call(h);
    } catch (err) {
      this.opts.logger?.error({ kind: this.opts.kind, err }, 'informer handler threw');
    }
  }
}

function keyOf(obj: { kind: Kind; metadata: { namespace?: string | undefined; name: string } }): string {
  return objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
}

