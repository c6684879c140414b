// Live lists: list, then watch from the list's revision by fetch streaming (the Authorization
// header goes with it; EventSource could not send it), apply each line; on 410 Gone list again;
// on a dropped stream resume from the last revision seen. Changes reach React at most every
// 50 ms, so a busy cluster costs one render per batch, not one per line.
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { ApiError, getJson, lines, request } from './http.js';

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; revision?: number; createdAt?: string; labels?: Record<string, string>; uid?: string; generation?: number };
  spec?: unknown;
  status?: unknown;
}

interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  revision: number;
  object?: Obj;
}

const keyOf = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Lists asked for before React runs (main.tsx, for the page the URL opens): the request goes out
 * while the script still evaluates, and the first LiveList of that URL takes its answer.
 */
const early = new Map<string, Promise<unknown>>();

export function prefetchList(url: string): void {
  if (early.has(url)) return;
  const p = getJson<unknown>(url);
  // Whoever takes it handles its error; unclaimed, it must not be an unhandled rejection.
  p.catch(() => undefined);
  early.set(url, p);
}

function takeEarly<B>(url: string): Promise<B> | undefined {
  const p = early.get(url);
  early.delete(url);
  return p as Promise<B> | undefined;
}

export class LiveList<T extends Obj> {
  readonly items = new Map<string, T>();
  version = 0;
  loaded = false;
  error: ApiError | undefined;
  private revision = 0;
  /** Where a dropped watch resumes; undefined right after a list (its revision). */
  private resumeFrom: number | undefined;
  private listeners = new Set<() => void>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly path: string,
    private readonly query = '',
    /** List in pages of this many (?limit, then ?continue), shown as they come; 0: one list. */
    private readonly pageSize = 0,
  ) {}

  subscribe = (f: () => void): (() => void) => {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  };

  snapshot = (): number => this.version;

  private changed(now = false): void {
    if (now) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.version++;
      for (const f of this.listeners) f();
      return;
    }
    this.flushTimer ??= setTimeout(() => this.changed(true), 50);
  }

  private url(extra: string): string {
    const q = [this.query, extra].filter(Boolean).join('&');
    return q ? `${this.path}?${q}` : this.path;
  }

  private async list(signal: AbortSignal): Promise<void> {
    type Page = { metadata: { revision: number; continue?: string }; items: T[] };
    if (this.pageSize <= 0) {
      const body = await (takeEarly<Page>(this.url('')) ?? getJson<Page>(this.url(''), signal));
      this.items.clear();
      for (const o of body.items) this.items.set(keyOf(o), o);
      this.revision = body.metadata.revision;
      this.resumeFrom = undefined;
      this.loaded = true;
      this.error = undefined;
      this.changed(true);
      return;
    }
    // Pages of one snapshot (the server keeps it between pages): the first is shown at once, the
    // rest as they come; the watch then starts from the snapshot's revision, so nothing is missed.
    let body = await getJson<Page>(this.url(`limit=${this.pageSize}`), signal);
    this.items.clear();
    for (;;) {
      for (const o of body.items) this.items.set(keyOf(o), o);
      this.revision = body.metadata.revision;
      this.loaded = true;
      this.error = undefined;
      this.changed(true);
      const next = body.metadata.continue;
      if (!next) return;
      body = await getJson<Page>(this.url(`continue=${encodeURIComponent(next)}`), signal);
    }
  }

  private apply(line: WatchLine): void {
    this.revision = Math.max(this.revision, line.revision);
    // A transaction's changes share a revision: a stream cut between them resumes from the one
    // before (changes seen again are simply set again).
    this.resumeFrom = line.type === 'BOOKMARK' ? line.revision : line.revision - 1;
    if (line.type === 'BOOKMARK' || !line.object) return;
    if (line.type === 'DELETED') this.items.delete(keyOf(line.object));
    else this.items.set(keyOf(line.object), line.object as T);
    this.changed();
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let listed = false;
    let backoff = 500;
    while (!signal.aborted) {
      try {
        if (!listed) {
          await this.list(signal);
          listed = true;
        }
        const res = await request(this.url(`watch=1&revision=${this.resumeFrom ?? this.revision}`), { signal });
        backoff = 500;
        for await (const text of lines(res, signal)) {
          if (text.trim()) this.apply(JSON.parse(text) as WatchLine);
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && (e.status === 410 || e.code === 'EXPIRED')) {
          listed = false; // history moved past us: list again
          continue;
        }
        if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
          this.error = e;
          this.loaded = true;
          this.changed(true);
          return;
        }
        if (e instanceof ApiError) this.error = e;
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

export interface LiveView<T> {
  items: T[];
  loaded: boolean;
  error: ApiError | undefined;
}

/** A live list of `path` (a collection URL) with `query` (selectors); null path: nothing. */
export function useLiveList<T extends Obj>(path: string | null, query = '', pageSize = 0): LiveView<T> {
  const [live, setLive] = useState<LiveList<T> | undefined>(undefined);
  useEffect(() => {
    if (path === null) return setLive(undefined);
    const l = new LiveList<T>(path, query, pageSize);
    const stop = new AbortController();
    setLive(l);
    void l.run(stop.signal);
    return () => stop.abort();
  }, [path, query, pageSize]);
  const noop = useMemo(() => ({ subscribe: () => () => undefined, snapshot: () => 0 }), []);
  const version = useSyncExternalStore(live?.subscribe ?? noop.subscribe, live?.snapshot ?? noop.snapshot);
  return useMemo(
    () => ({ items: live ? [...live.items.values()] : [], loaded: live?.loaded ?? false, error: live?.error }),
    // `version` changes whenever the items do.
    [live, version],
  );
}
