// What each controller's setup gets from the manager (index.ts), as controller-runtime's
// SetupWithManager gets a Manager: the shared informers (one list-watch per kind, whoever
// listens), the store, the one event recorder, the options, and a place to hand its loops. A
// setup declares its triggers (which informer events enqueue which keys) and starts its queue;
// the manager starts the informers once every setup has added its handlers, so none misses the
// first list.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { EventRecorder, EventRetention } from '../runtime/event-recorder.js';
import type { Informer } from '../runtime/informer.js';
import type { ServerMetrics } from '../runtime/metrics.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import type { HandlerResult, WorkQueue } from '../runtime/work-queue.js';

export interface ControllerOptions {
  /** A node silent this long is marked not ready and its instances Lost. */
  nodeGracePeriodMs: number;
  /** A node not heard from since the controllers started is silent only past this long after the start (server --node-startup-grace); default 60 s. */
  nodeStartupGraceMs?: number | undefined;
  /** The heartbeat rate big clusters are paced to (server --max-heartbeats-per-second): silence stretches with it. */
  maxHeartbeatsPerSecond?: number | undefined;
  /** Every key is reconciled at least this often, events or not. */
  resyncIntervalMs: number;
  /** Scheduler seed, for reproducible placement in tests and simulations. */
  seed?: number;
  /** uids for runAsUser auto (server --auto-uid-range); default 100000-165535. */
  autoUidRange?: { first: number; last: number } | undefined;
  /** What event GC keeps (server --event-ttl, --max-events); default DEFAULT_EVENT_RETENTION. */
  eventRetention?: Partial<EventRetention> | undefined;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = { nodeGracePeriodMs: 15_000, resyncIntervalMs: 30_000 };

/** One informer per kind the controllers watch, shared by every controller that watches it. */
export interface SharedInformers {
  services: Informer<'Service'>;
  instances: Informer<'Instance'>;
  nodes: Informer<'Node'>;
  /** A changed Config or Secret changes the template of every Service whose files reference it. */
  configs: Informer<'Config'>;
  secrets: Informer<'Secret'>;
  jobs: Informer<'Job'>;
  cronJobs: Informer<'CronJob'>;
}

export interface Manager {
  readonly store: Store;
  readonly events: EventRecorder;
  /** The controllers' logger; a setup makes a child per controller. */
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly options: ControllerOptions;
  readonly informers: SharedInformers;
  /** Heartbeat leases the API renews; absent: the stored lastHeartbeat alone. */
  readonly leases?: NodeLeases | undefined;
  /** The server's metrics: queue depths, reconcile durations, placements; absent: none kept. */
  readonly metrics?: ServerMetrics | undefined;
  /**
   * Runs `queue` with `reconcile` until the signal aborts; a failed key is logged and retried with
   * backoff. With `startAfter`, the workers start once it resolves (an informer's `synced`).
   */
  runQueue(controller: string, queue: WorkQueue, reconcile: (key: string) => Promise<HandlerResult>, concurrency: number, opts?: { startAfter?: Promise<void> }): void;
  /** Runs `fn` every `ms` (never overlapping) until the signal aborts; a failure goes to `onError`. */
  every(ms: number, fn: () => Promise<void>, onError: (err: unknown) => void): void;
}
