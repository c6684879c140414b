// Watch streams: NDJSON lines `{type, revision, object}` over a chunked response, replayed from a
// revision and then live, with BOOKMARK lines when idle. The store's watch is owned by the
// response: the client going away (or the app closing) aborts it, and every timer and listener is
// released in one finally block.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Kind } from '../core/index.js';
import type { Store, WatchEvent } from '../store/store.js';
import type { OpenStreams } from './open-streams.js';
import type { ObjectPredicate } from './selectors.js';

export interface WatchStreamOptions {
  store: Store;
  streams: OpenStreams;
  logger: Logger;
  kind: Kind;
  namespace: string | undefined;
  predicate: ObjectPredicate | undefined;
  /** Changes after this revision; the current revision when absent. */
  fromRevision: number | undefined;
  bookmarkIntervalMs: number;
}

/**
 * How long to wait for the store's first answer before committing to a 200. A store that refuses
 * the revision (EXPIRED) says so at once, and that must become a 410, not a broken stream.
 */
const FIRST_ANSWER_MS = 50;

type Next = IteratorResult<WatchEvent>;

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
  const ac = o.streams.add();
  const res = reply.raw;
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  const iterator = o.store.watch({ kind: o.kind, namespace: o.namespace, fromRevision: from }, ac.signal)[Symbol.asyncIterator]();
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
  const log = o.logger.child({ kind: o.kind, namespace: o.namespace, fromRevision: from });
  log.debug('watch opened');

  let lastRevision = from;
  const write = async (line: object): Promise<void> => {
    bookmark.refresh();
    if (!res.write(`${JSON.stringify(line)}\n`)) await waitForDrain(res, ac.signal);
  };
  // Carries the last revision the stream has passed, filtered-out changes included, so a client
  // resuming from it neither misses nor repeats anything.
  const bookmark = setTimeout(function tick() {
    if (!res.writableEnded && !ac.signal.aborted) res.write(`${JSON.stringify({ type: 'BOOKMARK', revision: lastRevision })}\n`);
    bookmark.refresh();
  }, o.bookmarkIntervalMs);
  const aborted = new Promise<Next>((resolve) => {
    if (ac.signal.aborted) resolve({ done: true, value: undefined });
    ac.signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
  });

  try {
    for (;;) {
      const r = first ?? (await Promise.race([next, aborted]));
      first = undefined;
      if (r.done || ac.signal.aborted) break;
      const ev = r.value;
      lastRevision = ev.revision;
      if (!o.predicate || o.predicate(ev.object)) await write({ type: ev.type, revision: ev.revision, object: ev.object });
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
