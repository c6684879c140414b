// The controller manager: builds the shared informers, calls each controller's setup (which
// declares its triggers and starts its queue, see manager.ts), then starts the informers.
// Everything stops when `signal` aborts; `done` resolves once every loop, timer and watch has ended.
import type { Logger } from 'pino';
import { sleep } from '../core/index.js';
import { DEFAULT_EVENT_RETENTION, gcEvents, type EventRecorder } from '../runtime/event-recorder.js';
import { Informer } from '../runtime/informer.js';
import type { ServerMetrics } from '../runtime/metrics.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import type { HandlerResult } from '../runtime/work-queue.js';
import type { Store } from '../store/store.js';
import { setupCronController, setupJobController } from './job/job-setup.js';
import { DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions, type Manager, type SharedInformers } from './manager.js';
import { setupCrashLoopController, setupDrainController, setupNodeController } from './node/node-setup.js';
import { setupSchedulingController } from './scheduling/scheduling-setup.js';
import { setupServiceController } from './service/service-setup.js';

export { DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions } from './manager.js';

export interface ControllerDeps {
  store: Store;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<ControllerOptions>;
  /** The server shares one recorder between the API and the controllers, so repeats aggregate. */
  events: EventRecorder;
  /** Heartbeat leases the API renews (the same table); absent: the stored lastHeartbeat alone. */
  leases?: NodeLeases | undefined;
  /** The server's metrics (queue depths, reconcile durations, placements). */
  metrics?: ServerMetrics | undefined;
}

/** Every controller's setup. */
const SETUPS: readonly ((mgr: Manager) => void)[] = [
  setupServiceController,
  setupSchedulingController,
  setupNodeController,
  setupDrainController,
  setupCrashLoopController,
  setupJobController,
  setupCronController,
];

const EVENT_GC_INTERVAL_MS = 60_000;

export function startControllers(deps: ControllerDeps): { done: Promise<void> } {
  const { store, signal } = deps;
  const options = { ...DEFAULT_CONTROLLER_OPTIONS, ...deps.options };
  const logger = deps.logger.child({ component: 'controllers' });
  const { resyncIntervalMs } = options;
  const informers: SharedInformers = {
    services: new Informer({ source: store, kind: 'Service', logger, resyncIntervalMs }),
    instances: new Informer({ source: store, kind: 'Instance', logger, resyncIntervalMs }),
    nodes: new Informer({ source: store, kind: 'Node', logger, resyncIntervalMs }),
    configs: new Informer({ source: store, kind: 'Config', logger, resyncIntervalMs: 0 }),
    secrets: new Informer({ source: store, kind: 'Secret', logger, resyncIntervalMs: 0 }),
    jobs: new Informer({ source: store, kind: 'Job', logger, resyncIntervalMs }),
    cronJobs: new Informer({ source: store, kind: 'CronJob', logger, resyncIntervalMs }),
  };
  const loops: Promise<void>[] = [];
  const mgr: Manager = {
    store,
    events: deps.events,
    logger,
    signal,
    options,
    informers,
    leases: deps.leases,
    metrics: deps.metrics,
    runQueue: (controller, queue, reconcile, concurrency, opts) => {
      const onError = (key: string, err: unknown) => logger.warn({ controller, key, err }, 'reconcile failed; retrying with backoff');
      const { metrics } = deps;
      metrics?.watchQueue(controller, () => queue.length);
      const timed = metrics
        ? async (key: string): Promise<HandlerResult> => {
            const end = metrics.reconciles.startTimer({ controller });
            let result = 'error';
            try {
              const r = await reconcile(key);
              result = 'ok';
              return r;
            } finally {
              end({ result });
            }
          }
        : reconcile;
      const run = () => queue.run((key) => timed(key), signal, concurrency, onError);
      loops.push(opts?.startAfter ? afterSync(opts.startAfter, signal, run) : run());
    },
    every: (ms, fn, onError) => {
      loops.push(every(ms, signal, fn, onError));
    },
  };
  for (const setup of SETUPS) setup(mgr);
  mgr.every(EVENT_GC_INTERVAL_MS, async () => {
    const result = await gcEvents(store, { ...DEFAULT_EVENT_RETENTION, ...options.eventRetention });
    if (result.deleted > 0) logger.info(result, 'events compacted (by age, per-object count, total count)');
  }, (err) => logger.warn({ err }, 'event gc failed'));
  // Last, so that every setup's handlers see the first list.
  const { services, instances, nodes, configs, secrets, jobs, cronJobs } = informers;
  loops.push(services.run(signal), instances.run(signal), nodes.run(signal), configs.run(signal), secrets.run(signal), jobs.run(signal), cronJobs.run(signal));
  logger.info({ options }, 'controllers started');
  const done = Promise.all(loops).then(() => logger.info('controllers stopped'));
  return { done };
}

/** Runs `fn` every `ms` (never overlapping) until `signal` aborts. */
async function every(ms: number, signal: AbortSignal, fn: () => Promise<void>, onError: (err: unknown) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (err) {
      if (signal.aborted) break;
      onError(err);
    }
    await sleep(ms, signal);
  }
}

/** Runs `loop` once `synced` resolves; resolves at once if `signal` aborts first. */
async function afterSync(synced: Promise<void>, signal: AbortSignal, loop: () => Promise<void>): Promise<void> {
  if (signal.aborted) return;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const first = await Promise.race([synced.then(() => 'synced' as const), aborted]);
  signal.removeEventListener('abort', onAbort);
  if (first === 'synced') await loop();
}
