// List-then-watch that survives disconnects: the informer pattern for the CLI, the agent and the
// simulator. After a dropped connection it waits (backoff capped at ~5 s) and resumes from the last
// revision it saw, BOOKMARKs included, so nothing is missed or repeated. When the server no longer
// has that revision (EXPIRED) it lists again and hands the full state to onSync.
import type { Logger } from 'pino';
import { isAppError, sleep, type AnyObject, type Kind } from '../core/index.js';
import type { ClientListOptions, ClientWatchEvent, GantryClient } from './types.js';

export interface WatchHandlers {
  /** The complete current state at `revision`: first, and again after every EXPIRED relist. */
  onSync(items: AnyObject[], revision: number): void | Promise<void>;
  /** One change (ADDED, MODIFIED, DELETED); BOOKMARKs only advance the resume point. */
  onEvent(ev: ClientWatchEvent): void | Promise<void>;
}

export interface WatchLoopTiming {
  /** First wait after a failure; doubles up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

const DEFAULT_TIMING: WatchLoopTiming = { initialBackoffMs: 200, maxBackoffMs: 5_000 };

/**
 * Runs until `signal` aborts; resolves then. Errors thrown by the handlers are not retried: they
 * end the loop and reject, because a handler that fails is a bug, not a network problem.
 */
export async function watchWithResume(
  client: GantryClient,
  kind: Kind,
  opts: ClientListOptions,
  signal: AbortSignal,
  handlers: WatchHandlers,
  logger?: Logger,
  timing: Partial<WatchLoopTiming> = {},
): Promise<void> {
  const t = { ...DEFAULT_TIMING, ...timing };
  let revision: number | undefined;
  let backoff = t.initialBackoffMs;
  const log = logger?.child({ kind, namespace: opts.namespace });

  while (!signal.aborted) {
    let handlerFailed = false;
    const call = async (fn: () => void | Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        handlerFailed = true;
        throw e;
      }
    };
    try {
      if (revision === undefined) {
        const listed = await client.list(kind, opts);
        await call(() => handlers.onSync(listed.items, listed.revision));
        revision = listed.revision;
        backoff = t.initialBackoffMs;
      }
      for await (const ev of client.watch(kind, { ...opts, revision }, signal)) {
        backoff = t.initialBackoffMs; // the connection works
        if (ev.type !== 'BOOKMARK') await call(() => handlers.onEvent(ev));
        revision = ev.revision;
      }
      if (signal.aborted) break;
      // A server that is shutting down ends streams cleanly: do not hammer it while it restarts.
      log?.debug({ revision, retryInMs: backoff }, 'watch ended by the server; resuming');
      await sleep(backoff / 2 + (Math.random() * backoff) / 2, signal); // jitter: thousands of watchers cut at once must not come back at once
      backoff = Math.min(backoff * 2, t.maxBackoffMs);
    } catch (e) {
      if (handlerFailed) throw e;
      if (signal.aborted) break;
      if (isAppError(e, 'EXPIRED')) {
        log?.info({ revision }, 'watch revision expired; listing again');
        revision = undefined;
        continue;
      }
      log?.warn({ err: e, revision, retryInMs: backoff }, 'watch failed; retrying');
      await sleep(backoff / 2 + (Math.random() * backoff) / 2, signal);
      backoff = Math.min(backoff * 2, t.maxBackoffMs);
    }
  }
}
