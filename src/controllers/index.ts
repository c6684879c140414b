// The controller manager: informers feed work queues, queues feed reconcilers. Everything stops
// when `signal` aborts; `done` resolves once every loop, timer and watch has ended.
import type { Logger } from 'pino';
import { isFinished, isUnboundPending, sleep, type Instance } from '../core/index.js';
import type { Store } from '../store/store.js';
import { referencesConfig } from './service/config-digest.js';
import { CrashLoopController, mayCrashLoop } from './node/crash-loop-controller.js';
import { DrainController } from './node/drain-controller.js';
import type { EventRecorder} from '../runtime/event-recorder.js';
import { gcEvents } from '../runtime/event-recorder.js';
import { startJobControllers } from './job/job-setup.js';
import { Informer } from '../runtime/informer.js';
import { NodeController } from './node/node-controller.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import { instanceSchedulingChanged, nodeSchedulingChanged } from './scheduling/scheduling-triggers.js';
import { SCHEDULING_KEY, SchedulingController } from './scheduling/scheduling-controller.js';
import { ServiceController } from './service/service-controller.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { nsKey } from './shared/queue-keys.js';

export interface ControllerOptions {
  /** A node silent this long is marked not ready and its instances Lost. */
  nodeGracePeriodMs: number;
  /** Every key is reconciled at least this often, events or not. */
  resyncIntervalMs: number;
  /** Scheduler seed, for reproducible placement in tests and simulations. */
  seed?: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = { nodeGracePeriodMs: 15_000, resyncIntervalMs: 30_000 };

export interface ControllerDeps {
  store: Store;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<ControllerOptions>;
  /** The server shares one recorder between the API and the controllers, so repeats aggregate. */
  events: EventRecorder;
  /** Heartbeat leases the API renews (the same table); absent: the stored lastHeartbeat alone. */
  leases?: NodeLeases | undefined;
}

const NODE_CHECK_INTERVAL_MS = 1000;
/** How long a service's reconcile waits for more changes of its instances. */
const INSTANCE_BURST_MS = 200;
/** How late a node check may start before the node controller assumes the server stalled. */
const NODE_CHECK_STALL_MS = 4000;
const EVENT_GC_INTERVAL_MS = 60_000;

export function startControllers(deps: ControllerDeps): { done: Promise<void> } {
  const { store, signal } = deps;
  const options = { ...DEFAULT_CONTROLLER_OPTIONS, ...deps.options };
  const logger = deps.logger.child({ component: 'controllers' });
  const resyncIntervalMs = options.resyncIntervalMs;
  const events = deps.events;

  const services = new Informer({ source: store, kind: 'Service', logger, resyncIntervalMs });
  const instances = new Informer({ source: store, kind: 'Instance', logger, resyncIntervalMs });
  const nodes = new Informer({ source: store, kind: 'Node', logger, resyncIntervalMs });
  // A changed Config or Secret changes the template of every Service whose files reference it.
  const configs = new Informer({ source: store, kind: 'Config', logger, resyncIntervalMs: 0 });
  const secrets = new Informer({ source: store, kind: 'Secret', logger, resyncIntervalMs: 0 });

  const serviceQueue = new WorkQueue();
  const schedulingQueue = new WorkQueue();
  const drainQueue = new WorkQueue();
  const crashLoopQueue = new WorkQueue();

  const enqueueService = (o: { metadata: { namespace?: string | undefined; name: string } }) =>
    serviceQueue.add(nsKey(o.metadata.namespace, o.metadata.name));
  // Instance changes come in bursts (a hundred replicas turning Running within a second, each a
  // status report): one reconcile per service per burst, instead of one per report, each writing
  // the service's status. A Service change (a user's apply) is handled at once.
  const enqueueOwner = (i: Instance) => {
    // A Job's runs share the spec.service field; the job controllers own them.
    if (i.spec.ownerKind !== 'Job') serviceQueue.addAfter(nsKey(i.metadata.namespace, i.spec.service), INSTANCE_BURST_MS);
  };
  // One key for every reason to schedule: a burst of 1,000 applies while a pass runs is one more
  // pass afterwards, and that pass takes everything pending then.
  const enqueueScheduling = () => schedulingQueue.add(SCHEDULING_KEY);
  // Node maintenance: a draining node, and its instances' changes (the last one leaving ends the drain).
  const enqueueDrain = (node: string | undefined) => {
    if (node !== undefined && nodes.get(undefined, node)?.spec.draining) drainQueue.addAfter(node, INSTANCE_BURST_MS);
  };
  const watchInstance = (i: Instance) => {
    enqueueDrain(i.spec.node);
    if (mayCrashLoop(i)) crashLoopQueue.add(nsKey(i.metadata.namespace, i.metadata.name));
  };

  services.addHandlers({ onAdd: enqueueService, onUpdate: (_o, n) => enqueueService(n), onDelete: enqueueService });
  instances.addHandlers({
    onAdd: (i) => {
      enqueueOwner(i);
      watchInstance(i);
      if (isUnboundPending(i) || isFinished(i)) enqueueScheduling();
    },
    onUpdate: (old, i) => {
      enqueueOwner(i);
      watchInstance(i);
      if (instanceSchedulingChanged(old, i)) enqueueScheduling();
    },
    onDelete: (i) => {
      enqueueOwner(i);
      enqueueDrain(i.spec.node);
      if (i.spec.node) enqueueScheduling();
    },
  });
  const enqueueReferrers = (kind: 'Config' | 'Secret') => (o: { metadata: { namespace?: string | undefined; name: string } }) => {
    for (const svc of services.list()) {
      if (svc.metadata.namespace === o.metadata.namespace && referencesConfig(svc.spec.configFiles, kind, o.metadata.name)) enqueueService(svc);
    }
  };
  for (const [informer, kind] of [[configs, 'Config'], [secrets, 'Secret']] as const) {
    const enqueue = enqueueReferrers(kind);
    informer.addHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  }
  // Heartbeats (a Node update a minute per node, and every resync) change nothing the scheduler reads.
  nodes.addHandlers({
    onAdd: (n) => {
      enqueueScheduling();
      if (n.spec.draining) drainQueue.add(n.metadata.name);
    },
    onUpdate: (old, next) => {
      if (nodeSchedulingChanged(old, next)) enqueueScheduling();
      // Also when a drain ends (uncordon), so the controller forgets it.
      if (next.spec.draining || old.spec.draining) drainQueue.add(next.metadata.name);
    },
    onDelete: enqueueScheduling,
  });

  const serviceController = new ServiceController({
    store,
    events,
    logger: logger.child({ controller: 'service' }),
    // The informer's view of nodes: a graceful stop on a node that is not ready is not waited for.
    nodeReady: (node) => nodes.get(undefined, node)?.status?.ready,
  });
  const schedulingController = new SchedulingController({
    store,
    events,
    logger: logger.child({ controller: 'scheduling' }),
    // The safety net under the incremental state: a full read at most once per resync interval.
    rebuildIntervalMs: resyncIntervalMs,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const nodeController = new NodeController({
    store,
    events,
    logger: logger.child({ controller: 'node' }),
    nodeGracePeriodMs: options.nodeGracePeriodMs,
    leases: deps.leases,
    // A tick 4 s late: the server was stalled, and heartbeats could not get in either.
    stallThresholdMs: NODE_CHECK_INTERVAL_MS + NODE_CHECK_STALL_MS,
  });

  const drainController = new DrainController({ store, events, logger: logger.child({ controller: 'drain' }) });
  const crashLoopController = new CrashLoopController({ store, events, logger: logger.child({ controller: 'crash-loop' }) });

  const jobLoops = startJobControllers({ store, events, logger, signal, instances, resyncIntervalMs });

  const onError = (name: string) => (key: string, err: unknown) => logger.warn({ controller: name, key, err }, 'reconcile failed; retrying with backoff');
  const loops = [
    services.run(signal),
    instances.run(signal),
    nodes.run(signal),
    configs.run(signal),
    secrets.run(signal),
    serviceQueue.run((key) => serviceController.reconcile(key), signal, 2, onError('service')),
    drainQueue.run((key) => drainController.reconcile(key), signal, 1, onError('drain')),
    crashLoopQueue.run((key) => crashLoopController.reconcile(key), signal, 1, onError('crash-loop')),
    schedulingQueue.run((key) => (key === CATCH_UP_KEY ? schedulingController.keepUp() : schedulingController.reconcile()), signal, 1, onError('scheduling')),
    // Between passes the scheduler's state follows the store in small steps, so it never falls
    // out of the store's change history (a full re-read of 100,000 instances took ~15 s under
    // load, and delayed the replacement of a lost node's instances by as much). Same queue as
    // the passes, so the two never run at once.
    every(CATCH_UP_INTERVAL_MS, signal, async () => schedulingQueue.add(CATCH_UP_KEY), () => undefined),
    ...jobLoops,
    every(NODE_CHECK_INTERVAL_MS, signal, () => nodeController.check(), (err) => logger.warn({ controller: 'node', err }, 'node check failed')),
    every(EVENT_GC_INTERVAL_MS, signal, async () => {
      const deleted = await gcEvents(store);
      if (deleted > 0) logger.info({ deleted }, 'old events deleted');
    }, (err) => logger.warn({ err }, 'event gc failed')),
  ];
  logger.info({ options }, 'controllers started');
  const done = Promise.all(loops).then(() => logger.info('controllers stopped'));
  return { done };
}

const CATCH_UP_KEY = 'scheduling-catch-up';
const CATCH_UP_INTERVAL_MS = 2_000;

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
