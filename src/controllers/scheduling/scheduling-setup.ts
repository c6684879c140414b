// The scheduling controller's triggers. One key for every reason to schedule: a burst of 1,000
// applies while a pass runs is one more pass afterwards, and that pass takes everything pending
// then. Between passes a catch-up key keeps the controller's cluster state close to the store.
import { isFinished, isUnboundPending } from '../../core/index.js';
import { WorkQueue } from '../../runtime/work-queue.js';
import type { Manager } from '../manager.js';
import { SCHEDULING_KEY, SchedulingController } from './scheduling-controller.js';
import { instanceSchedulingChanged, nodeSchedulingChanged } from './scheduling-triggers.js';

const CATCH_UP_KEY = 'scheduling-catch-up';
const CATCH_UP_INTERVAL_MS = 2_000;

/**
 * - an instance: added unbound Pending or finished, changed so that it needs a place or frees
 *   one (scheduling-triggers.ts), deleted while bound;
 * - a Node: added or deleted, or changed in what the scheduler reads (not heartbeats: a Node
 *   update a minute per node, and every resync, change nothing it reads);
 * - every 2 s: catch up with the store's history (not a pass).
 */
export function setupSchedulingController(mgr: Manager): void {
  const { instances, nodes } = mgr.informers;
  const queue = new WorkQueue();
  const enqueue = () => queue.add(SCHEDULING_KEY);
  instances.addHandlers({
    onAdd: (i) => {
      if (isUnboundPending(i) || isFinished(i)) enqueue();
    },
    onUpdate: (old, i) => {
      if (instanceSchedulingChanged(old, i)) enqueue();
    },
    onDelete: (i) => {
      if (i.spec.node) enqueue();
    },
  });
  nodes.addHandlers({
    onAdd: enqueue,
    onUpdate: (old, next) => {
      if (nodeSchedulingChanged(old, next)) enqueue();
    },
    onDelete: enqueue,
  });

  const controller = new SchedulingController({
    store: mgr.store,
    events: mgr.events,
    metrics: mgr.metrics,
    logger: mgr.logger.child({ controller: 'scheduling' }),
    // The safety net under the incremental state: a full read at most once per resync interval.
    rebuildIntervalMs: mgr.options.resyncIntervalMs,
    ...(mgr.options.seed !== undefined ? { seed: mgr.options.seed } : {}),
    autoUidRange: mgr.options.autoUidRange,
  });
  mgr.runQueue('scheduling', queue, (key) => (key === CATCH_UP_KEY ? controller.keepUp() : controller.reconcile()), 1);
  // Between passes the scheduler's state follows the store in small steps, so it never falls
  // out of the store's change history (a full re-read of 100,000 instances took ~15 s under
  // load, and delayed the replacement of a lost node's instances by as much). Same queue as
  // the passes, so the two never run at once.
  mgr.every(CATCH_UP_INTERVAL_MS, async () => queue.add(CATCH_UP_KEY), () => undefined);
}
