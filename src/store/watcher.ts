// One watch: an async iterator over its own buffer. Writers push without waiting, so a slow
// consumer never blocks them; instead its buffer grows, and past `maxBuffered` events or
// `maxBufferedBytes` (the changes' stored JSON) the watch ends with EXPIRED: the consumer relists
// and watches again, as after any disconnect, and the server does not grow with its lag.
import { ExpiredError } from '../core/index.js';
import type { Kind } from '../core/index.js';
import type { FieldSelector, WatchEvent } from './store.js';

export interface WatcherFilter {
  kind: Kind | undefined;
  namespace: string | undefined;
  /** Applied by the hub, which routes (and rewrites) events per field value; here for bookkeeping. */
  field?: FieldSelector | undefined;
  /** Only events with a revision greater than this. */
  after: number;
}

interface Waiting {
  resolve: (r: IteratorResult<WatchEvent>) => void;
  reject: (e: unknown) => void;
}

const DONE: IteratorResult<WatchEvent> = { done: true, value: undefined };

export class Watcher implements AsyncIterableIterator<WatchEvent> {
  private queue: WatchEvent[] = [];
  /** Stored JSON bytes of each queued event, same indexes as `queue`. */
  private sizes: number[] = [];
  private queuedBytes = 0;
  private head = 0;
  private waiting: Waiting | undefined;
  private ended = false;
  private error: Error | undefined;

  constructor(
    readonly filter: WatcherFilter,
    private readonly maxBuffered: number,
    private readonly onEnd: (w: Watcher) => void = () => undefined,
    private readonly maxBufferedBytes = Infinity,
  ) {}

  matches(e: WatchEvent): boolean {
    const f = this.filter;
    return (
      e.revision > f.after &&
      (f.kind === undefined || e.object.kind === f.kind) &&
      (f.namespace === undefined || e.object.metadata.namespace === f.namespace)
    );
  }

  /** Queues `e` (`bytes`: its stored JSON size) if it matches. Never blocks and never throws. */
  offer(e: WatchEvent, bytes = 0): void {
    if (this.ended || !this.matches(e)) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ done: false, value: e });
      return;
    }
    this.queue.push(e);
    this.sizes.push(bytes);
    this.queuedBytes += bytes;
    const behind = this.queue.length - this.head > this.maxBuffered ? `${this.maxBuffered} events` : this.queuedBytes > this.maxBufferedBytes ? `${sizeText(this.maxBufferedBytes)} of changes` : undefined;
    if (behind) {
      this.fail(new ExpiredError(`watch of ${this.describe()} fell more than ${behind} behind at revision ${e.revision}: list again and watch from the list's revision`));
    }
  }

  /** Ends the watch with `error`: pending and buffered events are dropped, the next read throws. */
  fail(error: Error): void {
    if (this.ended) return;
    this.error = error;
    this.finish();
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      this.error = undefined;
      w.reject(error);
    }
  }

  /** Ends the watch without error (abort, store closed): the iterator is done. */
  end(): void {
    if (this.ended) return;
    this.finish();
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(DONE);
    }
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Stored JSON bytes of the events waiting to be read. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head] as WatchEvent;
      this.queuedBytes -= this.sizes[this.head] ?? 0;
      this.head += 1;
      // Drop consumed events now and then, so a long watch does not keep them all.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.sizes = this.sizes.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.error !== undefined) {
      const error = this.error;
      this.error = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.waiting) return Promise.reject(new Error('watch: next() called again before the previous call settled'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  private finish(): void {
    this.ended = true;
    this.queue = [];
    this.sizes = [];
    this.queuedBytes = 0;
    this.head = 0;
    this.onEnd(this);
  }

  private describe(): string {
    const { kind, namespace, field } = this.filter;
    let what = kind ? `${kind} objects` : 'all objects';
    if (field) what += ` with ${field.path}=${field.value ?? ''}`;
    return namespace ? `${what} in namespace ${namespace}` : what;
  }
}

function sizeText(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB` : `${bytes} bytes`;
}
