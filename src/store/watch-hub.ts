// The in-memory tail of the change history and the fan-out to watchers. Writes and watch
// registration both run synchronously on the one JS thread, so a new watch copies the replay from
// the tail and joins the live fan-out in the same tick: no gap and no duplicate between the two.
//
//   store write --publish(events)--> history tail (last historyLimit changes)
//                                  \-> watchers by kind --offer--> per-watch buffer --> for await
import { AppError } from '../core/index.js';
import type { Kind } from '../core/index.js';
import type { WatchEvent, WatchOptions } from './store.js';
import { Watcher } from './watcher.js';

export interface WatchHubOptions {
  /** The store revision the history ends at. */
  revision: number;
  /** Kept history, oldest first, consecutive revisions ending at `revision` (may be empty). */
  history: readonly WatchEvent[];
  historyLimit: number;
  /** A watcher this many events behind is ended with EXPIRED. */
  maxBuffered: number;
}

export class WatchHub {
  private history: WatchEvent[];
  private start = 0;
  private revision: number;
  /** Watchers by the kind they follow; key undefined holds those that follow every kind. */
  private readonly watchers = new Map<Kind | undefined, Set<Watcher>>();
  private closed = false;

  constructor(private readonly opts: WatchHubOptions) {
    this.revision = opts.revision;
    this.history = opts.history.slice(-Math.max(1, opts.historyLimit));
  }

  /** The oldest revision still replayable; revision + 1 when no history is kept. */
  get oldestRevision(): number {
    return this.history[this.start]?.revision ?? this.revision + 1;
  }

  get watcherCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Records committed changes (in revision order) and hands them to every matching watcher. */
  publish(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) this.history.push(e);
    this.revision = (events[events.length - 1] as WatchEvent).revision;
    const excess = this.history.length - this.start - this.opts.historyLimit;
    if (excess > 0) this.start += excess;
    // Compact once the dropped prefix is as long as the kept tail: amortised O(1) per event.
    if (this.start >= this.opts.historyLimit) {
      this.history = this.history.slice(this.start);
      this.start = 0;
    }
    for (const e of events) {
      this.offerAll(this.watchers.get(e.object.kind), e);
      this.offerAll(this.watchers.get(undefined), e);
    }
  }

  /**
   * Replays history after `fromRevision` (default: now), then follows live changes. Errors
   * (EXPIRED) surface on the first read, so `for await` inside a try sees them.
   */
  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterableIterator<WatchEvent> {
    const from = opts.fromRevision ?? this.revision;
    const kind = opts.kind;
    const onAbort = (): void => watcher.end();
    const watcher: Watcher = new Watcher({ kind, namespace: opts.namespace, after: from }, this.opts.maxBuffered, (w) => {
      this.watchers.get(kind)?.delete(w);
      signal.removeEventListener('abort', onAbort);
    });
    if (this.closed || signal.aborted) {
      watcher.end();
      return watcher;
    }
    const oldest = this.oldestRevision;
    if (from < oldest - 1) {
      watcher.fail(
        new AppError(
          'EXPIRED',
          `watch from revision ${from} is too old: history is kept from revision ${oldest} (now ${this.revision}); list again and watch from the list's revision`,
        ),
      );
      return watcher;
    }
    for (let i = this.start + Math.max(0, from + 1 - oldest); i < this.history.length; i++) {
      watcher.offer(this.history[i] as WatchEvent);
    }
    if (watcher.isEnded) return watcher; // the replay alone overflowed its buffer
    let set = this.watchers.get(kind);
    if (!set) {
      set = new Set();
      this.watchers.set(kind, set);
    }
    set.add(watcher);
    signal.addEventListener('abort', onAbort, { once: true });
    return watcher;
  }

  /** Ends every watch (without error); later watches end at once. */
  close(): void {
    this.closed = true;
    for (const set of [...this.watchers.values()]) for (const w of [...set]) w.end();
    this.watchers.clear();
  }

  private offerAll(set: Set<Watcher> | undefined, e: WatchEvent): void {
    if (!set) return;
    for (const w of set) w.offer(e);
  }
}
