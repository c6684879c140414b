// The crash-loop controller: the agent restarts a failing container in place with a growing
// backoff (src/agent/instance/restart-backoff.ts); once a service instance has failed
// `spec.rescheduleAfterFailures` times in a row (default 5; `recentFailures` in its container
// status, which a run of 10 minutes resets) it is evicted with reason CrashLoop, and the
// service controller replaces it with an instance whose `avoidNodes` names the node it failed on
// (and any its predecessors failed on), so the scheduler prefers other nodes (a soft rule: with
// no other feasible node it places there again). A failure that is the node's fault moves away;
// one that is the image's fault keeps failing everywhere, slowly, as each move restarts the count.
//
// Keyed by instance: the Instance informer enqueues an instance that has failed at least
// once in a row and is not evicted yet; the reconcile re-reads it and its Service.
import type { Logger } from 'pino';
import { serviceSpecDefaults, type Instance } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import type { EventRecorder } from '../../runtime/event-recorder.js';
import { canEvict, recentFailuresOf, withEvict } from './instance-evict.js';
import { splitKey } from '../shared/queue-keys.js';

export interface CrashLoopControllerOptions {
  store: Store;
  logger: Logger;
  events: EventRecorder;
  now?: () => number;
}

/** Worth a look: a failing service instance that could still be evicted. */
export function mayCrashLoop(i: Instance): boolean {
  return recentFailuresOf(i) > 0 && canEvict(i);
}

export class CrashLoopController {
  private readonly now: () => number;
  private readonly events: EventRecorder;

  constructor(private readonly opts: CrashLoopControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events;
  }

  async reconcile(key: string): Promise<void> {
    const { store, logger } = this.opts;
    const { namespace, name } = splitKey(key);
    const inst = await store.get('Instance', namespace, name);
    if (!inst || !mayCrashLoop(inst)) return;
    const service = await store.get('Service', namespace, inst.spec.service);
    if (!service) return;
    const limit = serviceSpecDefaults(service.spec).rescheduleAfterFailures ?? 5;
    const failures = recentFailuresOf(inst);
    if (failures < limit) return;
    const node = inst.spec.node!;
    const message = `${name} failed ${failures} times in a row on node ${node}; moving it to another node`;
    // A conflict (a status report landed) throws: the queue retries with the fresh object.
    const evicted = await store.update(withEvict(inst, 'CrashLoop', message, this.now()));
    logger.warn({ namespace, name, node, failures, limit, revision: evicted.metadata.revision }, 'instance crash-looping; evicted');
    await this.events.record({ kind: 'Instance', namespace, name }, 'Warning', 'CrashLoopRescheduled', message, 'crash-loop-controller', new Date(this.now()));
  }
}
