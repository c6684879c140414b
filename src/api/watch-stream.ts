// Watch streams: NDJSON lines `{type, revision, object}` over a chunked response, replayed from a
// revision and then live, with BOOKMARK lines when idle. The store's watch is owned by the
// response: the client going away (or the app closing) aborts it, and every timer and listener is
// released in one finally block.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { redactSecret, type Kind } from '../core/index.js';
import type { FieldSelector, Store, WatchEvent } from '../store/store.js';
import type { OpenStreams } from './open-streams.js';
import type { ObjectPredicate } from './selectors.js';

export interface WatchStreamOptions {
  store: Store;
  streams: OpenStreams;
  logger: Logger;
  kind: Kind;
  namespace: string | undefined;
  /**
   * Selected by the store from its index, with Kubernetes' enter/leave events: an object that
   * starts matching arrives as ADDED, one that stops matching as DELETED (see store.ts).
   */
  field?: FieldSelector | undefined;
  /** The selectors the store did not apply, checked on each event's object. */
  predicate: ObjectPredicate | undefined;
  /** Changes after this revision; the current revision when absent. */
  fromRevision: number | undefined;
  bookmarkIntervalMs: number;
  /** The credential (token id) that opened the watch: revoking it ends the watch. */
  owner?: string | undefined;
  /**
   * Leave out MODIFIED events the store marked statusOnly (`?omitStatusChanges=1`): an agent's
   * watch of its instances would otherwise carry each of its own status reports back to it.
   * Bookmarks still move past them.
   */
  omitStatusChanges?: boolean | undefined;
}

/**
 * How long to wait for the store's first answer before committing to a 200. A store that refuses
 * the revision (EXPIRED) says so at once, and that must become a 410, not a broken stream.
 */
const FIRST_ANSWER_MS = 50;

/**
 * How much a watch may have waiting in its response before it stops for the socket to drain.
 * Waiting whenever `write()` says so (past Node's 16 KiB) let a watch of every instance move
 * 16 KiB per turn of the event loop: at 5,000 nodes, with turns 100 ms apart, a watcher saw
 * instances created a minute after they were. Beyond this the store's watcher holds the events,
 * as before.
 */
const WATCH_HIGH_WATER_BYTES = 1024 * 1024;

type Next = IteratorResult<WatchEvent>;

/**
 * Whether an idle stream's BOOKMARK may carry the store's current revision rather than the last
 * event it saw. That promises the client that nothing it wants lies at or below the revision, which
 * holds only when the store hands every committed change to its watchers in the commit's own tick:
 * the SQLite store publishes synchronously after each commit, so a watch waiting for its next event
 * (empty buffer) has been given everything up to currentRevision(). An asynchronous backend (etcd)
 * would need progress notifications instead; it keeps the last event's revision.
 */
function bookmarksMayUseStoreRevision(store: Store): boolean {
  return store.backend === 'sqlite';
}

function waitForDrain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Settles with the first answer, or with undefined if the store has nothing to say yet. */
async function firstAnswer(next: Promise<Next>): Promise<Next | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const later = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FIRST_ANSWER_MS);
  });
  try {
    return await Promise.race([next, later]);
  } finally {
    clearTimeout(timer);
  }
}

export async function serveWatch(reply: FastifyReply, o: WatchStreamOptions): Promise<void> {
  const from = o.fromRevision ?? (await o.store.currentRevision());
  const ac = o.streams.add(o.owner);
  const res = reply.raw;
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  const iterator = o.store.watch({ kind: o.kind, namespace: o.namespace, fromRevision: from, field: o.field }, ac.signal)[Symbol.asyncIterator]();
  let next = iterator.next();
  let first: Next | undefined;
  try {
    first = await firstAnswer(next);
  } catch (e) {
    res.off('close', onClose);
    ac.abort();
    throw e; // EXPIRED and friends go through the error handler: 410 before any stream
  }

  reply.hijack();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-gantry-revision': String(from) });
  // Node holds the headers until the first body byte: on a quiet watch that is the first bookmark,
  // and the client would not know its watch was taken (nor its revision) until then.
  res.flushHeaders();
  const log = o.logger.child({ kind: o.kind, namespace: o.namespace, fromRevision: from, ...(o.field && { field: `${o.field.path}=${o.field.value ?? ''}` }) });
  log.debug('watch opened');

  let lastRevision = from;
  // True only while the loop waits for the store's next event, i.e. it has written (or filtered
  // out) everything the store has handed it.
  let idle = false;
  const storeRevisionIsSafe = bookmarksMayUseStoreRevision(o.store);
  // Events the store has buffered for this watch arrive in one run of microtasks: corked until the
  // next tick, they leave as one socket write (one TLS record run, one syscall) instead of one
  // each. A watch of every instance during a rollout carries thousands of events a second.
  let corked = false;
  const uncork = (): void => {
    corked = false;
    res.uncork();
  };
  const write = async (line: object): Promise<void> => {
    bookmark.refresh();
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    res.write(`${JSON.stringify(line)}\n`);
    if (res.writableLength > WATCH_HIGH_WATER_BYTES) await waitForDrain(res, ac.signal);
  };
  const sendBookmark = async (): Promise<void> => {
    // Read the store's revision in the same tick as `idle`: see bookmarksMayUseStoreRevision.
    const pending = idle && storeRevisionIsSafe ? o.store.currentRevision().catch(() => 0) : undefined;
    const storeRevision = (await pending) ?? 0;
    if (res.writableEnded || ac.signal.aborted) return;
    // Events may have been written while we waited: never move back behind them.
    lastRevision = Math.max(lastRevision, storeRevision);
    res.write(`${JSON.stringify({ type: 'BOOKMARK', revision: lastRevision })}\n`);
  };
  const bookmark = setTimeout(function tick() {
    sendBookmark()
      .catch((e: unknown) => log.warn({ err: e }, 'watch bookmark failed'))
      .finally(() => {
        if (!ac.signal.aborted) bookmark.refresh();
      });
  }, o.bookmarkIntervalMs);

  try {
    for (;;) {
      idle = first === undefined;
      // No race against an abort promise here: the store's watch ends on abort and settles this
      // read with done (a race would leave one reaction per event on a promise that lives as long
      // as the stream).
      const r = first ?? (await next);
      idle = false;
      first = undefined;
      if (r.done || ac.signal.aborted) break;
      const ev = r.value;
      lastRevision = ev.revision;
      const wanted = !(o.omitStatusChanges && ev.type === 'MODIFIED' && ev.statusOnly) && (!o.predicate || o.predicate(ev.object));
      if (wanted) await write({ type: ev.type, revision: ev.revision, object: redactSecret(ev.object) });
      next = iterator.next();
    }
  } catch (e) {
    // The store failed mid-stream (closing, history overrun): end the stream; the client resumes.
    log.warn({ err: e, lastRevision }, 'watch ended by the store');
  } finally {
    next.catch(() => undefined); // a read still in flight when we stopped must not go unhandled
    clearTimeout(bookmark);
    res.off('close', onClose);
    ac.abort();
    if (!res.writableEnded) res.end();
    log.debug({ lastRevision }, 'watch closed');
  }
}
