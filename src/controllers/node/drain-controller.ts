// The drain controller: a node with `spec.draining` (set by `gantry node drain`, together with
// `unschedulable`) has its live service instances evicted; the service controller replaces each
// surge-first within its service's maxUnavailable, and stops the original once the replacement
// is available. Job runs on the node are left to finish: they are not replaced mid-run, and the
// node counts as drained once they are done. When nothing unfinished is left, one NodeDrained
// event says so. The node stays draining (and cordoned) until `gantry node uncordon`.
//
// Keyed by node name: the Node informer enqueues draining nodes, and instance changes on a
// draining node enqueue it again, so the last instance leaving is noticed at once. While a node
// still has instances it is looked at again every few seconds as a safety net.
import type { Logger } from 'pino';
import { isFinished } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { updateInChunks } from '../shared/chunked-updates.js';
import type { EventRecorder} from '../../runtime/event-recorder.js';
import { type EventInput } from '../../runtime/event-recorder.js';
import { canEvict, withEvict } from './instance-evict.js';
import type { HandlerResult } from '../../runtime/work-queue.js';

export interface DrainControllerOptions {
  store: Store;
  logger: Logger;
  events: EventRecorder;
  now?: () => number;
}

/** How soon a node with instances left is looked at again without an event. */
const DRAIN_RECHECK_MS = 5_000;

export class DrainController {
  /** Draining nodes whose NodeDrained event is recorded (until they are uncordoned or drain again). */
  private readonly drained = new Set<string>();
  private readonly now: () => number;
  private readonly events: EventRecorder;

  constructor(private readonly opts: DrainControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.events = opts.events;
  }

  async reconcile(name: string): Promise<HandlerResult> {
    const { store, logger } = this.opts;
    const node = await store.get('Node', undefined, name);
    if (!node?.spec.draining) {
      this.drained.delete(name);
      return;
    }
    const onNode = (await store.list('Instance', { field: { path: 'spec.node', value: name } })).items.filter((i) => !isFinished(i));
    const nowMs = this.now();
    const message = `node ${name} is draining`;
    const { written, changed } = await updateInChunks(store, onNode.filter(canEvict).map((i) => withEvict(i, 'NodeDrain', message, nowMs)));
    const pending: EventInput[] = written.map((i) => ({
      involved: { kind: 'Instance', namespace: i.metadata.namespace, name: i.metadata.name },
      type: 'Normal',
      reason: 'InstanceEvicted',
      message: `${message}: a replacement starts on another node, then ${i.metadata.name} stops`,
    }));
    if (written.length > 0) logger.info({ node: name, evicted: written.length }, 'draining node: instances evicted');
    if (onNode.length === 0 && !this.drained.has(name)) {
      pending.push({ involved: { kind: 'Node', name }, type: 'Normal', reason: 'NodeDrained', message: `node ${name} drained: no instances left; gantry node uncordon ${name} to use it again` });
      logger.info({ node: name }, 'node drained');
    }
    if (pending.length > 0) await this.events.recordAll(pending, 'drain-controller', new Date(nowMs));
    if (onNode.length === 0) {
      this.drained.add(name);
      return;
    }
    this.drained.delete(name);
    // A lost CAS (an agent's status report landed) is retried soon; otherwise wait for changes.
    return { requeueAfterMs: changed.length > 0 ? 200 : DRAIN_RECHECK_MS };
  }
}

