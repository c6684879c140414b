// The triggers of the node-level controllers: the node controller (a timer, not events), the
// drain controller (keyed by node) and the crash-loop controller (keyed by instance).
import { WorkQueue } from '../../runtime/work-queue.js';
import type { Manager } from '../manager.js';
import { nsKey } from '../shared/queue-keys.js';
import { CrashLoopController, mayCrashLoop } from './crash-loop-controller.js';
import { DrainController } from './drain-controller.js';
import { NodeController } from './node-controller.js';

const NODE_CHECK_INTERVAL_MS = 1000;
/** How late a node check may start before the node controller assumes the server stalled. */
const NODE_CHECK_STALL_MS = 4000;
/** How long a draining node's reconcile waits for more changes of its instances. */
const INSTANCE_BURST_MS = 200;

/** Every second: heartbeats are leases in memory, not events, so silence is found by looking. */
export function setupNodeController(mgr: Manager): void {
  const logger = mgr.logger.child({ controller: 'node' });
  const controller = new NodeController({
    store: mgr.store,
    events: mgr.events,
    logger,
    nodeGracePeriodMs: mgr.options.nodeGracePeriodMs,
    startupGraceMs: mgr.options.nodeStartupGraceMs,
    maxHeartbeatsPerSecond: mgr.options.maxHeartbeatsPerSecond,
    leases: mgr.leases,
    // A tick 4 s late: the server was stalled, and heartbeats could not get in either.
    stallThresholdMs: NODE_CHECK_INTERVAL_MS + NODE_CHECK_STALL_MS,
    // Shorter lateness is the server's lag, not the nodes' silence (lag credit).
    checkIntervalMs: NODE_CHECK_INTERVAL_MS,
  });
  mgr.every(NODE_CHECK_INTERVAL_MS, () => controller.check(), (err) => mgr.logger.warn({ controller: 'node', err }, 'node check failed'));
}

/**
 * - a Node added draining, or changed while draining or out of it (an uncordon ends a drain, so
 *   the controller forgets it): at once;
 * - an instance on a draining node added, changed or deleted (the last one leaving ends the
 *   drain): after 200 ms.
 */
export function setupDrainController(mgr: Manager): void {
  const { instances, nodes } = mgr.informers;
  const queue = new WorkQueue();
  const enqueueNodeOf = (node: string | undefined) => {
    if (node !== undefined && nodes.get(undefined, node)?.spec.draining) queue.addAfter(node, INSTANCE_BURST_MS);
  };
  nodes.addHandlers({
    onAdd: (n) => {
      if (n.spec.draining) queue.add(n.metadata.name);
    },
    onUpdate: (old, next) => {
      if (next.spec.draining || old.spec.draining) queue.add(next.metadata.name);
    },
  });
  instances.addHandlers({
    onAdd: (i) => enqueueNodeOf(i.spec.node),
    onUpdate: (_o, i) => enqueueNodeOf(i.spec.node),
    onDelete: (i) => enqueueNodeOf(i.spec.node),
  });
  const controller = new DrainController({ store: mgr.store, events: mgr.events, logger: mgr.logger.child({ controller: 'drain' }) });
  mgr.runQueue('drain', queue, (key) => controller.reconcile(key), 1);
}

/** An instance added or changed that has failed recently and may still be evicted (mayCrashLoop). */
export function setupCrashLoopController(mgr: Manager): void {
  const queue = new WorkQueue();
  const enqueue = (i: Parameters<typeof mayCrashLoop>[0]) => {
    if (mayCrashLoop(i)) queue.add(nsKey(i.metadata.namespace, i.metadata.name));
  };
  mgr.informers.instances.addHandlers({ onAdd: enqueue, onUpdate: (_o, i) => enqueue(i) });
  const controller = new CrashLoopController({ store: mgr.store, events: mgr.events, logger: mgr.logger.child({ controller: 'crash-loop' }) });
  mgr.runQueue('crash-loop', queue, (key) => controller.reconcile(key), 1);
}
