// Sends instance status to the server in batches: many changes within one flush interval become
// one request, an instance's status is sent only when it differs from what the server last
// accepted, and failed sends are retried with back-off (the latest status wins).
import type { Logger } from 'pino';
import { describeError, isAppError, type InstanceStatus } from '../../core/index.js';
import type { GantryClient, InstanceStatusReport, InstanceStatusResult } from '../../client/types.js';
import { FailureStreak } from '../../runtime/failure-streak.js';
import { BatchFlusher } from './batch-flusher.js';
import type { CarriedEvents } from './event-reporter.js';

export interface StatusReporterOptions {
  client: GantryClient;
  logger: Logger;
  /** Default 250 ms. */
  flushIntervalMs?: number | undefined;
  /**
   * While instances keep changing, reports go no more often than this. Default: the flush
   * interval, and four of them (1 s) while the server asks for longer heartbeats (a cluster past
   * 2,500 nodes: client.advisedHeartbeatIntervalMs), where a node starting many instances sends
   * one bigger report a second, not four. A change after a quiet spell still goes after
   * flushIntervalMs. Small clusters keep the quarter second: in `bench docker` (20 replicas on
   * one node) a second's spacing made 20/20 ready 1.2 s later.
   */
  minSpacingMs?: number | undefined;
  /** Items per request; default 500. */
  maxBatch?: number | undefined;
  /** Longest wait between retries while the server fails; default 10 s. */
  maxRetryDelayMs?: number | undefined;
  /**
   * Where the agent's events wait (its EventReporter): each report carries them when the server
   * takes events with status (client.statusTakesEvents), instead of a request of their own.
   */
  events?: { takeForReport(): CarriedEvents | undefined } | undefined;
}

/** In a large cluster, reports of a node whose instances keep changing are this many flush intervals apart. */
export const STATUS_SPACING_INTERVALS = 4;

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
// updatedAt is stamped when sending, so it must not make an unchanged status look changed. Plain
// JSON, not canonical: every status compared here is built by this agent's own code, so equal
// statuses have their keys in the same order, and a different order would only cost a report
// sent again. canonicalJson's sorting was 6% of a 5,000-node simulator's CPU.
const fingerprint = (s: InstanceStatus): string => JSON.stringify({ ...s, updatedAt: undefined });

export class StatusReporter {
  private readonly pending = new Map<string, InstanceStatusReport>();
  /** Fingerprint of the status the server last accepted, per instance. */
  private readonly accepted = new Map<string, string>();
  private readonly maxBatch: number;
  /**
   * Arms a timer only while something is pending: with thousands of agents in one process (gantry
   * sim) a 250 ms tick each is thousands of wake-ups a second that find nothing to do.
   */
  private readonly flusher: BatchFlusher;
  /** One warn when reports start failing, one info when one is taken again. */
  private readonly failures: FailureStreak;

  constructor(private readonly opts: StatusReporterOptions) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.failures = new FailureStreak(opts.logger, { recovered: 'status reports taken again' });
    this.flusher = new BatchFlusher({
      intervalMs: opts.flushIntervalMs ?? 250,
      minSpacingMs: () => opts.minSpacingMs ?? (opts.client.advisedHeartbeatIntervalMs !== undefined ? STATUS_SPACING_INTERVALS : 1) * (opts.flushIntervalMs ?? 250),
      maxRetryDelayMs: opts.maxRetryDelayMs ?? 10_000,
      hasWork: () => this.pending.size > 0,
      send: () => (this.pending.size === 0 ? undefined : this.sendBatch()),
    });
  }

  start(): void {
    this.flusher.start();
  }

  /** Queues the latest status of one instance; replaces any status not yet sent. */
  report(namespace: string, name: string, status: InstanceStatus): void {
    const key = keyOf(namespace, name);
    if (this.accepted.get(key) === fingerprint(status)) {
      this.pending.delete(key);
      return;
    }
    this.pending.set(key, { namespace, name, status });
    this.flusher.schedule();
  }

  /** Drops everything about a deleted instance. */
  forget(namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    this.pending.delete(key);
    this.accepted.delete(key);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Whether a report is waiting to be sent that will carry the agent's events: something is
   * pending, the server takes events with status, and reports are not failing (then the next
   * waits out a back-off). An event reporter waits for it (rideOn).
   */
  get takesEventsSoon(): boolean {
    const { client } = this.opts;
    return this.pending.size > 0 && this.flusher.failures === 0 && client.statusTakesEvents === true && client.reportStatusWithEvents !== undefined && this.opts.events !== undefined;
  }

  /** Sends what is pending now; never throws. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Stops the timer and makes one last attempt to send what is pending. */
  stop(): Promise<void> {
    return this.flusher.stop();
  }

  private async sendBatch(): Promise<void> {
    const batch: InstanceStatusReport[] = [];
    for (const [key, item] of this.pending) {
      if (batch.length >= this.maxBatch) break;
      this.pending.delete(key);
      batch.push({ ...item, status: { ...item.status, updatedAt: new Date().toISOString() } });
    }
    const { client } = this.opts;
    const carried = client.statusTakesEvents && client.reportStatusWithEvents ? this.opts.events?.takeForReport() : undefined;
    try {
      let results: InstanceStatusResult[];
      if (carried && client.reportStatusWithEvents) {
        const answer = await client.reportStatusWithEvents(batch, carried.items, carried.source);
        results = answer.results;
        // Over the node's event rate: the status was written, the events wait for a later try.
        if (answer.events?.retryAfterSeconds !== undefined) carried.giveBack(answer.events.retryAfterSeconds * 1000);
      } else {
        results = await client.reportInstanceStatus(batch);
      }
      const byKey = new Map(results.map((r) => [keyOf(r.namespace, r.name), r]));
      for (const item of batch) {
        const key = keyOf(item.namespace, item.name);
        const r = byKey.get(key);
        if (r?.ok) {
          this.accepted.set(key, fingerprint(item.status));
        } else if (r?.error?.code === 'NOT_FOUND') {
          // The instance was deleted; its runner is being removed too.
          this.forget(item.namespace, item.name);
        } else if (r?.error?.code === 'CONFLICT') {
          // The instance is finished (Lost, Failed, Succeeded) and the server refuses to move it
          // back: the same status would be refused forever, so stop sending it. Its replacement
          // is another instance; this one is deleted soon and its runner removed then.
          this.opts.logger.info({ namespace: item.namespace, name: item.name, error: r.error }, 'instance status refused; dropped');
          this.forget(item.namespace, item.name);
        } else {
          this.opts.logger.warn({ namespace: item.namespace, name: item.name, error: r?.error }, 'instance status rejected; will retry');
          this.requeue(item);
        }
      }
      this.flusher.succeeded();
      this.failures.succeeded();
    } catch (e) {
      // A refusal that names the events (`events[i]`) drops them, as their own request would; any
      // other failure gives them back (and the client sends the next report without events after
      // a refusal: an older server refuses the field itself).
      if (carried && refusesEvents(e)) carried.drop(describeError(e));
      else carried?.giveBack();
      this.flusher.failed();
      this.failures.failed({ err: describeError(e), items: batch.length }, 'status report failed; will retry');
      for (const item of batch) this.requeue(item);
    }
  }

  private requeue(item: InstanceStatusReport): void {
    const key = keyOf(item.namespace, item.name);
    // A newer status queued while this one was in flight wins.
    if (!this.pending.has(key)) this.pending.set(key, item);
  }
}

/** Whether a refused report was refused for its events: the message or a detail's path names `events`. */
function refusesEvents(e: unknown): boolean {
  if (!(isAppError(e, 'INVALID') || isAppError(e, 'FORBIDDEN') || isAppError(e, 'MALFORMED'))) return false;
  const named = (s: string | undefined): boolean => s !== undefined && /\bevents\[\d+\]/.test(s);
  return named(e.message) || (e.details ?? []).some((d) => named(d.path));
}
