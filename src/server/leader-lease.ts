// The leader-only seam of the server. Some parts of the control plane must run on one server at a
// time, because they decide and write (controllers, scheduler, cron, node lifecycle, event GC);
// the API, the watch caches that serve reads and discovery run on every server. A LeaderLease says
// where the leader-only parts may run: it hands out an AbortSignal that fires when the lease is
// lost, and each leader-only part stops on it.
//
// Today there is one server, and LocalLeaderLease is granted at once and held until the server
// stops. HA plugs an elected lease (etcd's election API, or a Lease object with a TTL) in here:
// nothing else changes.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { untilAborted } from '../core/index.js';

export interface LeaderLease {
  /**
   * Waits until this server holds the lease. Resolves with a signal that aborts when the lease is
   * lost, or with undefined when `signal` aborted first (the server is stopping).
   */
  acquire(signal: AbortSignal): Promise<AbortSignal | undefined>;
  /** Gives the lease up, if held (a clean stop lets another server take over at once). */
  release(): Promise<void>;
}

/** The single-server lease: granted at once, held until release(). */
export class LocalLeaderLease implements LeaderLease {
  private held: AbortController | undefined;

  async acquire(signal: AbortSignal): Promise<AbortSignal | undefined> {
    if (signal.aborted) return undefined;
    this.held = new AbortController();
    return this.held.signal;
  }

  async release(): Promise<void> {
    this.held?.abort();
    this.held = undefined;
  }
}

/** Listeners the leader-only parts may add to their signal before Node warns of a leak. */
const LEADER_PART_LISTENERS = 1000;

/** A part that runs only under the lease: starts with the lease's signal, resolves once stopped. */
export type LeaderOnlyPart = (signal: AbortSignal) => Promise<void>;

export interface LeaderLoop {
  /** True while the leader-only parts run. */
  readonly leading: boolean;
  /** Resolves when no leader-only part runs (at once when none does). */
  idle(): Promise<void>;
  /** Resolves when the loop has ended (stop aborted, parts stopped, lease released). */
  readonly done: Promise<void>;
}

/**
 * Runs `parts` each time the lease is won, until `stop` aborts. When the lease is lost every part
 * stops (its signal fires) and the loop waits for all of them before it asks for the lease again,
 * so a server that lost the lease writes nothing more.
 */
export function runLeaderOnly(lease: LeaderLease, parts: readonly LeaderOnlyPart[], stop: AbortSignal, logger: Logger): LeaderLoop {
  let running: Promise<void> | undefined;
  const done = (async () => {
    try {
      while (!stop.aborted) {
        const held = await lease.acquire(stop);
        if (!held) break;
        logger.info('leader lease held: starting the leader-only parts');
        const signal = AbortSignal.any([stop, held]);
        // Every informer and controller of the leader listens to this one signal (not a leak).
        setMaxListeners(LEADER_PART_LISTENERS, signal);
        running = Promise.allSettled(parts.map((part) => part(signal))).then((results) => {
          for (const r of results) if (r.status === 'rejected') logger.error({ err: r.reason as unknown }, 'a leader-only part failed');
        });
        await running;
        if (!signal.aborted) {
          // Parts end only on their signal; one that ended by itself is a bug. Do not restart
          // them in a loop: wait for the lease to go (or the server to stop), then start over.
          logger.error('the leader-only parts ended while the lease is held; waiting for the lease to end');
          await untilAborted(signal);
        }
        running = undefined;
        if (!stop.aborted) logger.warn('leader lease lost: every leader-only part has stopped');
      }
    } finally {
      await lease.release();
    }
  })();
  return {
    get leading() {
      return running !== undefined;
    },
    idle: () => running ?? Promise.resolve(),
    done,
  };
}
