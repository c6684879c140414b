// What a scheduling pass tells people: one Scheduled event per service ("placed web-a on n1, ..."),
// and on each instance that did not fit its reason (status) plus a FailedScheduling event when the
// reason is new. Written in batches (txns of up to 1,000, the event loop free in between), so a
// pass that leaves 10,000 instances unplaced is ten transactions, not 20,000 writes in one go.
import type { Logger } from 'pino';
import { isUnboundPending, type Instance } from '../../core/index.js';
import type { Store } from '../../store/store.js';
import { updateInChunks } from '../shared/chunked-updates.js';
import type { EventInput, EventRecorder } from '../../runtime/event-recorder.js';
import type { ServerMetrics } from '../../runtime/metrics.js';
import { listSome } from '../shared/event-text.js';
import { groupBy } from '../shared/group-by.js';
import { nsKey, splitKey } from '../shared/queue-keys.js';

/** Events per recordAll call (one store txn each). */
const EVENTS_PER_BATCH = 1000;

export class SchedulingReport {
  constructor(
    private readonly opts: { store: Store; logger: Logger; events: EventRecorder; now?: (() => Date) | undefined; metrics?: ServerMetrics | undefined },
  ) {}

  /** One Scheduled event per service for this pass: which instance went to which node. */
  async placements(placed: readonly Instance[]): Promise<void> {
    if (placed.length > 0) this.opts.metrics?.placements.inc({ result: 'placed' }, placed.length);
    const inputs: EventInput[] = [];
    for (const list of groupBy(placed, (inst) => nsKey(inst.metadata.namespace, inst.spec.service)).values()) {
      const first = list[0]!;
      const where = list.map((i) => `${i.metadata.name} on ${i.spec.node ?? '?'}`);
      inputs.push({
        involved: { kind: 'Service', namespace: first.metadata.namespace, name: first.spec.service },
        type: 'Normal',
        reason: 'Scheduled',
        message: `placed ${listSome(where)}`,
      });
    }
    await this.record(inputs);
  }

  /** Sets reason and message on instances that did not fit; an event only when the reason is new. */
  async failures(unplaced: ReadonlyMap<string, string>): Promise<void> {
    const { store, logger } = this.opts;
    if (unplaced.size > 0) this.opts.metrics?.placements.inc({ result: 'unschedulable' }, unplaced.size);
    const updates: Instance[] = [];
    for (const [id, message] of unplaced) {
      const { namespace, name } = splitKey(id);
      const inst = await store.get('Instance', namespace, name);
      if (!inst || !isUnboundPending(inst)) continue;
      const status = inst.status ?? { phase: 'Pending' as const, ready: false, containers: [] };
      if (status.reason === 'Unschedulable' && status.message === message) continue;
      updates.push({ ...inst, status: { ...status, reason: 'Unschedulable', message } });
    }
    if (updates.length === 0) return;
    // Those that changed meanwhile are looked at again on the next pass.
    const { written } = await updateInChunks(store, updates);
    const inputs = written.map((inst): EventInput => {
      const message = inst.status?.message ?? '';
      logger.info({ namespace: inst.metadata.namespace, name: inst.metadata.name, reason: message }, 'instance unschedulable');
      return { involved: { kind: 'Instance', namespace: inst.metadata.namespace, name: inst.metadata.name }, type: 'Warning', reason: 'FailedScheduling', message };
    });
    await this.record(inputs);
  }

  private async record(inputs: readonly EventInput[]): Promise<void> {
    for (let start = 0; start < inputs.length; start += EVENTS_PER_BATCH) {
      if (start > 0) await new Promise((r) => setImmediate(r));
      await this.opts.events.recordAll(inputs.slice(start, start + EVENTS_PER_BATCH), 'scheduler', this.opts.now?.());
    }
  }
}
