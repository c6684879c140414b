// The in-memory tail of the change history and the fan-out to watchers. Writes and watch
// registration both run synchronously on the one JS thread, so a new watch copies the replay from
// the tail and joins the live fan-out in the same tick: no gap and no duplicate between the two.
//
//   store write --publish(changes)--> history tail (last historyLimit changes)
//                                   \-> watchers by kind ----------------offer--> per-watch buffer --> for await
//                                   \-> watchers by kind|field=value ----offer--/
//
// A watch with a field selector sits in a map keyed by kind, path and value, so a change reaches
// only the watches of its object's new value and (when it moved) its previous one: O(interested
// watchers) per change instead of O(all watchers). field-index.ts holds the enter/leave rule.
import { ExpiredError, objectKey } from '../core/index.js';
import type { AnyObject, Kind } from '../core/index.js';
import { fieldKey, fieldValue, fieldView, historyEntry, INDEXED_FIELDS, valueBefore } from './field-index.js';
import type { HistoryEntry } from './field-index.js';
import type { FieldPath, WatchEvent, WatchOptions } from './store.js';
import { Watcher } from './watcher.js';

/** A committed change as the store hands it over: the event plus the object it replaced, if any. */
export interface PublishedChange extends WatchEvent {
  /** For MODIFIED: the object before the change (lets field watches see an object leave). */
  prev?: AnyObject | undefined;
  /** The change's size as stored (its JSON); counts against historyMaxBytes. */
  bytes?: number | undefined;
}

export interface WatchHubOptions {
  /** The store revision the history ends at. */
  revision: number;
  /** Kept history, oldest first, in revision order, ending at or before `revision` (may be empty): every change after its first entry's revision - 1. */
  history: readonly WatchEvent[];
  historyLimit: number;
  /** The kept history's JSON bytes at most (the newest change is always kept); default unbounded. */
  historyMaxBytes?: number | undefined;
  /** The clock of `replayableHistory`'s age bound (ms); default Date.now. */
  now?: (() => number) | undefined;
  /** Sizes of `history`'s changes, same order; absent: measured here. */
  historySizes?: readonly number[] | undefined;
  /** A watcher this many events behind is ended with EXPIRED. */
  maxBuffered: number;
  /** A watcher holding this many bytes of unread changes (their stored JSON) is ended with EXPIRED; default DEFAULT_MAX_WATCH_BYTES. */
  maxBufferedBytes?: number | undefined;
  /**
   * A watch from a revision above the store's is answered EXPIRED: its client saw changes this
   * store does not have (a state file that lost its last commits to a power cut), and the
   * revisions it is waiting for will be reused by other changes. Best effort: once new writes
   * pass its revision such a watch is served (restoreSqlite avoids that for backups by going on
   * past the replaced file's revisions). Off: such a watch waits for the store to reach it (a
   * store fed by another's commits, etcd's, may lag behind a server its client talked to before).
   */
  expireFutureRevisions?: boolean | undefined;
}

/**
 * What one watcher may hold unread by default of changes that came while it lagged: 64 MiB,
 * about 40,000 instance changes. Its events share objects with the history, but a watcher that
 * lags past the history keeps them alive alone.
 */
export const DEFAULT_MAX_WATCH_BYTES = 64 * 2 ** 20;

/**
 * Whether `next` replaced `prev`'s status and nothing else: every other top-level part and every
 * metadata field but the revision is the very same value. Stores that share a version's unchanged
 * parts with the one before (shareEqualParts: the SQLite store's planner, the etcd store's watch)
 * make this exact; versions parsed apart (history loaded at open) get false, and are sent.
 */
export function changedStatusOnly(prev: AnyObject, next: AnyObject): boolean {
  if (prev.status === next.status) return false;
  const meta = (o: AnyObject): Record<string, unknown> => o.metadata;
  return sameExcept(prev as unknown as Record<string, unknown>, next as unknown as Record<string, unknown>, 'status', 'metadata') && sameExcept(meta(prev), meta(next), 'revision');
}

/** The same keys with the very same values, apart from the two skipped. */
function sameExcept(a: Record<string, unknown>, b: Record<string, unknown>, skip: string, skip2?: string): boolean {
  let count = 0;
  for (const k in b) {
    if (k === skip || k === skip2) continue;
    if (a[k] !== b[k] || !Object.hasOwn(a, k)) return false;
    count++;
  }
  for (const k in a) if (k !== skip && k !== skip2) count--;
  return count === 0;
}

export class WatchHub {
  private history: HistoryEntry[];
  /** JSON bytes of each history entry, same indexes as `history`. */
  private sizes: number[];
  /** When each history entry was published (loaded ones: when the hub was made), same indexes. */
  private times: number[];
  private readonly now: () => number;
  /** Sum of sizes from `start` on. */
  private keptBytes = 0;
  private start = 0;
  /**
   * Every change after this revision is in the history: a watch from here or later can resume.
   * Revisions need not be consecutive (an etcd revision can carry several changes, or none of ours).
   */
  private floor: number;
  private revision: number;
  /** Watchers by the kind they follow; key undefined holds those that follow every kind. */
  private readonly watchers = new Map<Kind | undefined, Set<Watcher>>();
  /** Watchers with a field selector, by fieldKey(kind, path, value). */
  private readonly fieldWatchers = new Map<string, Set<Watcher>>();
  private closed = false;

  constructor(private readonly opts: WatchHubOptions) {
    this.revision = opts.revision;
    const kept = opts.history.slice(-Math.max(1, opts.historyLimit));
    this.history = withPrevious(kept);
    // A cut through a transaction's changes (they share a revision) keeps only part of it: then
    // that revision is not replayable either.
    const first = kept[0];
    const before = opts.history[opts.history.length - kept.length - 1];
    this.floor = first ? first.revision - (before?.revision === first.revision ? 0 : 1) : opts.revision;
    const given = opts.historySizes?.slice(-kept.length);
    this.sizes = kept.map((e, i) => given?.[i] ?? JSON.stringify(e.object).length);
    this.now = opts.now ?? Date.now;
    const loadedAt = this.now();
    this.times = kept.map(() => loadedAt);
    for (const b of this.sizes) this.keptBytes += b;
    this.trim();
  }

  /** Drops the oldest entries beyond historyLimit or historyMaxBytes (keeping the newest one), compacting now and then. */
  private trim(): void {
    const maxBytes = this.opts.historyMaxBytes ?? Infinity;
    while (this.history.length - this.start > this.opts.historyLimit || (this.keptBytes > maxBytes && this.history.length - this.start > 1)) {
      this.keptBytes -= this.sizes[this.start] ?? 0;
      this.floor = (this.history[this.start] as HistoryEntry).event.revision;
      this.start++;
    }
    // Compact once the dropped prefix is as long as the kept tail: amortised O(1) per event.
    if (this.start > 0 && this.start >= this.history.length - this.start) {
      this.history = this.history.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
  }

  /** The kept history's JSON bytes (for tests and metrics). */
  get historyBytes(): number {
    return this.keptBytes;
  }

  /** The oldest revision still replayable; revision + 1 when no history is kept. */
  get oldestRevision(): number {
    return this.history[this.start]?.event.revision ?? this.revision + 1;
  }

  /**
   * The kept history a watch can replay, oldest first: every change after the floor (a
   * transaction cut by the trim is left out whole), and with `maxAgeMs` only those published
   * within that long (a transaction is published at once, so it is never cut by age). For a
   * store that writes its history at close.
   */
  replayableHistory(maxAgeMs = Infinity): WatchEvent[] {
    const since = this.now() - maxAgeMs;
    // A tail, never a gap: from the newest back to the first entry older than the bound.
    let first = this.history.length;
    while (first > this.start && (this.times[first - 1] ?? 0) >= since) first--;
    const events: WatchEvent[] = [];
    for (let i = first; i < this.history.length; i++) {
      const e = (this.history[i] as HistoryEntry).event;
      if (e.revision > this.floor) events.push(e);
    }
    return events;
  }

  /** The revision up to which changes are published (the latest change's, or where the hub started). */
  get currentRevision(): number {
    return this.revision;
  }

  get watcherCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    for (const set of this.fieldWatchers.values()) n += set.size;
    return n;
  }

  /** Records committed changes (in revision order) and hands them to every matching watcher. */
  publish(changes: readonly PublishedChange[]): void {
    if (changes.length === 0) return;
    const entries = changes.map((c) =>
      historyEntry(c.type === 'MODIFIED' && c.prev && changedStatusOnly(c.prev, c.object) ? { type: c.type, revision: c.revision, object: c.object, statusOnly: true } : { type: c.type, revision: c.revision, object: c.object }, c.prev),
    );
    const sizes = changes.map((c) => c.bytes ?? JSON.stringify(c.object).length);
    for (const e of entries) this.history.push(e);
    const at = this.now();
    for (const b of sizes) {
      this.times.push(at);
      this.sizes.push(b);
      this.keptBytes += b;
    }
    this.revision = (changes[changes.length - 1] as PublishedChange).revision;
    this.trim();
    entries.forEach((entry, i) => {
      const e = entry.event;
      const bytes = sizes[i]!;
      this.offerAll(this.watchers.get(e.object.kind), e, bytes);
      this.offerAll(this.watchers.get(undefined), e, bytes);
      if (this.fieldWatchers.size > 0) this.offerByField(entry, bytes);
    });
  }

  /**
   * Replays history after `fromRevision` (default: now), then follows live changes. Errors
   * (EXPIRED) surface on the first read, so `for await` inside a try sees them.
   */
  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterableIterator<WatchEvent> {
    const from = opts.fromRevision ?? this.revision;
    const { kind, field } = opts;
    const onAbort = (): void => watcher.end();
    const filter = { kind, namespace: opts.namespace, after: from, field };
    const watcher: Watcher = new Watcher(
      filter,
      this.opts.maxBuffered,
      (w) => {
        this.leave(w);
        signal.removeEventListener('abort', onAbort);
      },
      this.opts.maxBufferedBytes ?? DEFAULT_MAX_WATCH_BYTES,
    );
    if (this.closed || signal.aborted) {
      watcher.end();
      return watcher;
    }
    if (from < this.floor) {
      watcher.fail(
        new ExpiredError(`watch from revision ${from} is too old: history is kept from revision ${this.floor + 1} (now ${this.revision}); list again and watch from the list's revision`),
      );
      return watcher;
    }
    if (from > this.revision && this.opts.expireFutureRevisions) {
      watcher.fail(
        new ExpiredError(`watch from revision ${from} is ahead of the store (now ${this.revision}): the state file was restored or lost its last commits; list again and watch from the list's revision`),
      );
      return watcher;
    }
    // A field watch replays what it would have been handed live: the same fieldView per change.
    for (let i = this.firstAfter(from); i < this.history.length; i++) {
      const entry = this.history[i] as HistoryEntry;
      const e = field ? fieldView(entry, field) : entry.event;
      // The replay counts against maxBuffered only: its events are the history's own objects, and a
      // resume from far back must not be refused for the bytes it replays (bytes count live lag).
      if (e) watcher.offer(e);
    }
    if (watcher.isEnded) return watcher; // the replay alone overflowed its buffer
    if (field) join(this.fieldWatchers, fieldKey(kind, field.path, field.value), watcher);
    else join(this.watchers, kind, watcher);
    signal.addEventListener('abort', onAbort, { once: true });
    return watcher;
  }

  /** Index of the first kept entry with a revision above `from` (history is in revision order). */
  private firstAfter(from: number): number {
    let lo = this.start;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid] as HistoryEntry).event.revision <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Forgets the history and fails every watch with EXPIRED (`reason` says why): the changes between
   * the last published revision and `revision` are not known, so nobody may resume across them.
   * Watchers relist and watch again from `revision`.
   */
  reset(revision: number, reason: string): void {
    for (const map of [this.watchers, this.fieldWatchers] as Map<unknown, Set<Watcher>>[]) {
      for (const set of [...map.values()]) for (const w of [...set]) w.fail(new ExpiredError(`${reason}; list again and watch from the list's revision`));
      map.clear();
    }
    this.history = [];
    this.sizes = [];
    this.times = [];
    this.start = 0;
    this.keptBytes = 0;
    this.revision = revision;
    this.floor = revision;
  }

  /** Ends every watch (without error); later watches end at once. */
  close(): void {
    this.closed = true;
    for (const map of [this.watchers, this.fieldWatchers] as Map<unknown, Set<Watcher>>[]) {
      for (const set of [...map.values()]) for (const w of [...set]) w.end();
      map.clear();
    }
  }

  private leave(w: Watcher): void {
    const { kind, field } = w.filter;
    if (!field) {
      this.watchers.get(kind)?.delete(w);
      return;
    }
    // Empty sets go, or 10,000 agents coming and going would leave one per node name ever seen.
    const key = fieldKey(kind, field.path, field.value);
    const set = this.fieldWatchers.get(key);
    if (set?.delete(w) && set.size === 0) this.fieldWatchers.delete(key);
  }

  /** Hands a change to the field watches of its new value and, if it moved, its previous value. */
  private offerByField(entry: HistoryEntry, bytes: number): void {
    const { object } = entry.event;
    for (const path of INDEXED_FIELDS) {
      const now = fieldValue(object, path);
      const before = valueBefore(entry, path);
      this.offerField(entry, bytes, object.kind, path, now);
      this.offerField(entry, bytes, undefined, path, now);
      if (before !== now) {
        this.offerField(entry, bytes, object.kind, path, before);
        this.offerField(entry, bytes, undefined, path, before);
      }
    }
  }

  private offerField(entry: HistoryEntry, bytes: number, kind: Kind | undefined, path: FieldPath, value: string | undefined): void {
    const set = this.fieldWatchers.get(fieldKey(kind, path, value));
    if (!set) return;
    const e = fieldView(entry, { path, value });
    if (e) this.offerAll(set, e, bytes);
  }

  private offerAll(set: Set<Watcher> | undefined, e: WatchEvent, bytes: number): void {
    if (!set) return;
    for (const w of set) w.offer(e, bytes);
  }
}

function join<K>(map: Map<K, Set<Watcher>>, key: K, watcher: Watcher): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(watcher);
}

/**
 * History loaded from disk holds events only: recover where each change came from when its object
 * also changed earlier in the loaded tail. (The first change of each object stays unknown.)
 */
function withPrevious(events: readonly WatchEvent[]): HistoryEntry[] {
  const last = new Map<string, AnyObject>();
  return events.map((e) => {
    const key = objectKey(e.object.kind, e.object.metadata.namespace, e.object.metadata.name);
    const prev = e.type === 'ADDED' ? undefined : last.get(key);
    if (e.type === 'DELETED') last.delete(key);
    else last.set(key, e.object);
    return historyEntry(e, prev);
  });
}
