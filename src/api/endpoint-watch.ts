// An endpoint watch: NDJSON lines `{type, revision, object: EndpointSet}` in the framing of the
// object watches (watch-stream.ts): first every current set as ADDED, then each changed set as
// MODIFIED, and a BOOKMARK with the catalog's revision when idle. A slow reader never makes the
// catalog wait: changes coalesce per service while the socket is full, and only the newest set of
// each service is written when it drains (a watcher wants the current set, not every step).
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Catalog } from '../discovery/catalog.js';
import type { EndpointSet } from '../discovery/endpoint.js';
import type { OpenStreams } from './open-streams.js';

export interface EndpointWatchOptions {
  catalog: Catalog;
  streams: OpenStreams;
  logger: Logger;
  initial: EndpointSet[];
  filter: (set: EndpointSet) => boolean;
  bookmarkIntervalMs: number;
}

export async function serveEndpointWatch(reply: FastifyReply, o: EndpointWatchOptions): Promise<void> {
  const ac = o.streams.add();
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-gantry-revision': String(o.catalog.revision) });

  const pending = new Map<string, EndpointSet>();
  let wake: (() => void) | undefined;
  const unsubscribe = o.catalog.onChange((set) => {
    if (!o.filter(set)) return;
    pending.set(`${set.namespace}/${set.service}`, set);
    wake?.();
  });
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  const abortWait = (): void => wake?.();
  ac.signal.addEventListener('abort', abortWait, { once: true });

  // Waits for the socket to drain (or the stream to end); changes meanwhile only pile up in `pending`.
  const write = async (line: object): Promise<void> => {
    if (res.write(`${JSON.stringify(line)}\n`) || ac.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        ac.signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      ac.signal.addEventListener('abort', done, { once: true });
    });
  };

  try {
    for (const set of o.initial) await write({ type: 'ADDED', revision: set.revision, object: set });
    while (!ac.signal.aborted) {
      if (pending.size === 0) {
        const quiet = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), o.bookmarkIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
          if (ac.signal.aborted) wake();
        });
        wake = undefined;
        if (quiet && !ac.signal.aborted) await write({ type: 'BOOKMARK', revision: o.catalog.revision });
        continue;
      }
      const batch = [...pending.values()];
      pending.clear();
      for (const set of batch) {
        if (ac.signal.aborted) break;
        await write({ type: 'MODIFIED', revision: set.revision, object: set });
      }
    }
  } catch (e) {
    o.logger.warn({ err: e }, 'endpoint watch failed');
  } finally {
    unsubscribe();
    res.off('close', onClose);
    ac.signal.removeEventListener('abort', abortWait);
    ac.abort();
    if (!res.writableEnded) res.end();
  }
}
