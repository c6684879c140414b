// An informer for one kind: list, then watch from the list's revision, resuming from the last
// revision seen after a broken watch and relisting when the store says EXPIRED. It keeps a cache
// of the objects (for resync and for controllers that may read slightly stale state safely) and
// calls handlers that only enqueue keys: controllers re-read state, they never act on payloads.
import type { Logger } from 'pino';
import { isAppError, objectKey, sleep, type Kind, type ObjectOf } from '../core/index.js';
import type { Store } from '../store/store.js';

export interface InformerHandlers<O> {
  onAdd?: (obj: O) => void;
  /** Also called with (obj, obj) on every resync. */
  onUpdate?: (oldObj: O, newObj: O) => void;
  onDelete?: (obj: O) => void;
}

export interface InformerOptions<K extends Kind> {
  store: Store;
  kind: K;
  logger: Logger;
  /** Every this often, onUpdate(obj, obj) for every cached object; 0 turns resync off. */
  resyncIntervalMs: number;
  /** Pause before re-watching after a watch error (not EXPIRED). */
  retryDelayMs?: number;
}

export class Informer<K extends Kind> {
  private readonly cache = new Map<string, ObjectOf<K>>();
  private readonly handlers: InformerHandlers<ObjectOf<K>>[] = [];
  private revision = 0;
  private syncedResolve: () => void = () => {};
  /** Resolves after the first list has been delivered to the handlers. */
  readonly synced: Promise<void> = new Promise<void>((r) => (this.syncedResolve = r));

  constructor(private readonly opts: InformerOptions<K>) {}

  addHandlers(h: InformerHandlers<ObjectOf<K>>): void {
    this.handlers.push(h);
  }

  /** The cached objects: as fresh as the watch, which may lag the store slightly. */
  list(): ObjectOf<K>[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): ObjectOf<K> | undefined {
    return this.cache.get(objectKey(this.opts.kind, namespace, name));
  }

  get lastRevision(): number {
    return this.revision;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { store, kind, logger } = this.opts;
    const resync =
      this.opts.resyncIntervalMs > 0 ? setInterval(() => this.resync(), this.opts.resyncIntervalMs) : undefined;
    try {
      let needList = true;
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.relist();
            needList = false;
            this.syncedResolve();
          }
          for await (const ev of store.watch({ kind, fromRevision: this.revision }, signal)) {
            this.apply(ev.type, ev.object as ObjectOf<K>);
            this.revision = ev.revision;
          }
          // The stream ended without an abort (store closing, server restart): pause, resume.
          if (!signal.aborted) await sleep(this.opts.retryDelayMs ?? 1000, signal);
        } catch (err) {
          if (signal.aborted) break;
          if (isAppError(err, 'EXPIRED')) {
            logger.info({ kind, revision: this.revision }, 'watch expired; relisting');
            needList = true;
            continue;
          }
          logger.warn({ kind, revision: this.revision, err }, 'watch failed; resuming');
          await sleep(this.opts.retryDelayMs ?? 1000, signal);
        }
      }
    } finally {
      if (resync) clearInterval(resync);
    }
  }

  private async relist(): Promise<void> {
    const { items, revision } = await this.opts.store.list(this.opts.kind);
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit((h) => h.onAdd?.(obj));
      else if (old.metadata.revision !== obj.metadata.revision) this.emit((h) => h.onUpdate?.(old, obj));
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit((h) => h.onDelete?.(old));
    }
    this.revision = revision;
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

  private resync(): void {
    for (const obj of this.cache.values()) this.emit((h) => h.onUpdate?.(obj, obj));
  }

  private emit(call: (h: InformerHandlers<ObjectOf<K>>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.opts.logger.error({ kind: this.opts.kind, err }, 'informer handler threw');
      }
    }
  }
}

function keyOf(obj: { kind: Kind; metadata: { namespace?: string | undefined; name: string } }): string {
  return objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
}
