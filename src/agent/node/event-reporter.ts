// Sends the agent's events to the server in batches, like the status reporter: everything emitted
// within one flush interval (about a second) becomes one request. Events are history, not state,
// so the buffer is bounded: when it is full the oldest go, and while the server stays unreachable
// for long the backlog is dropped, each time with one log line saying how many.
//
// Like kubelet's event correlator, similar events are combined: AGGREGATE_MIN (10) or more Normal
// events of one reason about instances of one service, in one batch, become one event on the
// Service with the count and the names ("Started: 20 instances (web-a, web-b, ... and 15 more);
// web-a: started container web (id ...)"). A placement of 20 replicas on a node is then one
// stored event, not 20; a single restart still shows on its instance.
import type { Logger } from 'pino';
import { combinedEventMessage, describeError, isAppError } from '../../core/index.js';
import type { EventReport, GantryClient } from '../../client/types.js';
import { BatchFlusher } from './batch-flusher.js';

export interface EventReporterOptions {
  client: GantryClient;
  logger: Logger;
  /** Who saw it, shown as FROM in `gantry describe`; e.g. agent/node-1. */
  source: string;
  /** Default 1000 ms. */
  flushIntervalMs?: number | undefined;
  /** Events kept while the server is away; default 1000. */
  maxBuffered?: number | undefined;
  /** Events per request (the API takes at most 1000); default 500. */
  maxBatch?: number | undefined;
  /** The server failing this long drops the backlog; default 60 s. */
  dropAfterMs?: number | undefined;
  /** Longest wait between retries while the server fails; default 10 s. */
  maxRetryDelayMs?: number | undefined;
  now?: (() => number) | undefined;
}

/**
 * Similar Normal events of one service in one batch from which they are combined into one
 * (kubelet's correlator also waits for 10): a small service keeps its Started on each instance.
 */
export const AGGREGATE_MIN = 10;

/**
 * While a status report is due that will carry them (rideOn), buffered events wait for it instead
 * of a request of their own, but no longer than this after the oldest was emitted. A busy node
 * reports status every quarter second; without the wait its events, due a second after the first
 * of them, went on their own about once a second while it started instances: in a 5,000-node
 * rollout 158 event requests a second beside 435 status reports.
 */
export const MAX_RIDE_WAIT_MS = 5000;

/** A buffered event and the service its instance belongs to (undefined: never combined). */
interface Buffered extends EventReport {
  service?: string | undefined;
}

/** Events taken out for a status report to carry (StatusReporter), combined as their own batch would be. */
export interface CarriedEvents {
  readonly items: readonly EventReport[];
  readonly source: string;
  /**
   * The report did not deliver them: they wait again, at the front, for the next report or their
   * own request; with `retryAfterMs` (the node is over its event rate) no report carries events
   * before then.
   */
  giveBack(retryAfterMs?: number): void;
  /** The server refused them for good (invalid, forbidden): dropped, with a log line. */
  drop(reason: string): void;
}

export class EventReporter {
  private buffer: Buffered[] = [];
  /** No status report carries events before this (Date.now()): the server said the node is over its event rate. */
  private carryAfter = 0;
  private failingSince: number | undefined;
  /** When the oldest buffered event was emitted (or given back); undefined while none wait. */
  private waitingSince: number | undefined;
  /** Whether a status report that will take the buffered events is due (rideOn); none by default. */
  private reportDue: () => boolean = () => false;
  private overflow = 0;
  private readonly maxBuffered: number;
  private readonly maxBatch: number;
  private readonly dropAfterMs: number;
  private readonly now: () => number;
  /** Arms a timer only while events wait (see StatusReporter), backs off while the server fails. */
  private readonly flusher: BatchFlusher;

  constructor(private readonly opts: EventReporterOptions) {
    this.maxBuffered = opts.maxBuffered ?? 1000;
    this.maxBatch = Math.min(opts.maxBatch ?? 500, 1000);
    this.dropAfterMs = opts.dropAfterMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.flusher = new BatchFlusher({
      intervalMs: opts.flushIntervalMs ?? 1000,
      maxRetryDelayMs: opts.maxRetryDelayMs ?? 10_000,
      // Overflow alone is worth a wake-up: its log line says events were lost.
      hasWork: () => this.buffer.length > 0 || this.overflow > 0,
      send: (onTimer) => {
        this.noteOverflow();
        if (this.buffer.length === 0) return undefined;
        if (onTimer && this.waitForReport()) return undefined;
        return this.sendBatches();
      },
    });
  }

  start(): void {
    this.flusher.start();
  }

  /**
   * Lets buffered events wait for a status report (up to MAX_RIDE_WAIT_MS) while `reportDue` says
   * one is about to go that takes events (StatusReporter.takesEventsSoon).
   */
  rideOn(reportDue: () => boolean): void {
    this.reportDue = reportDue;
  }

  /**
   * Queues one event; never blocks and never throws. `service`: the instance's service, so that
   * similar events of its instances may be combined (see the top of this file).
   */
  emit(involved: EventReport['involved'], type: EventReport['type'], reason: string, message: string, service?: string): void {
    this.waitingSince ??= this.now();
    this.buffer.push({ involved, type, reason, message, ...(service !== undefined ? { service } : {}) });
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.shift();
      this.overflow++;
    }
    this.flusher.schedule();
  }

  get pendingCount(): number {
    return this.buffer.length;
  }

  /** Up to maxBatch buffered events for a status report to carry; undefined when none wait. */
  takeForReport(): CarriedEvents | undefined {
    if (this.buffer.length === 0 || this.now() < this.carryAfter) return undefined;
    const raw = this.buffer.splice(0, this.maxBatch);
    const since = this.waitingSince;
    this.noteEmptied();
    return {
      items: combineSimilar(raw),
      source: this.opts.source,
      giveBack: (retryAfterMs) => {
        if (retryAfterMs !== undefined) this.carryAfter = this.now() + retryAfterMs;
        this.putBack(raw, since);
        this.flusher.schedule();
      },
      drop: (reason) => this.opts.logger.warn({ reason, dropped: raw.length }, 'server refused events sent with a status report; dropped them'),
    };
  }

  /** Sends everything buffered now, in batches of maxBatch; never throws. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Stops the timer and makes one last attempt to send what is buffered. */
  stop(): Promise<void> {
    return this.flusher.stop();
  }

  private noteOverflow(): void {
    if (this.overflow === 0) return;
    this.opts.logger.warn({ dropped: this.overflow, buffered: this.buffer.length }, 'event buffer full; dropped the oldest events');
    this.overflow = 0;
  }

  /** The timer found events and a status report due: whether they wait for it (not too long). */
  private waitForReport(): boolean {
    if (this.now() < this.carryAfter || !this.reportDue()) return false;
    return this.now() - (this.waitingSince ?? this.now()) < MAX_RIDE_WAIT_MS;
  }

  private noteEmptied(): void {
    if (this.buffer.length === 0) this.waitingSince = undefined;
  }

  /**
   * Events taken out that were not delivered go back to the front, the buffer's bound kept.
   * `since`: when the oldest of them began to wait, so a failed carry does not restart its clock.
   */
  private putBack(raw: readonly Buffered[], since: number | undefined): void {
    if (raw.length > 0) this.waitingSince = Math.min(this.waitingSince ?? Infinity, since ?? this.now());
    this.buffer = [...raw, ...this.buffer];
    while (this.buffer.length > this.maxBuffered) {
      this.buffer.shift();
      this.overflow++;
    }
  }

  private async sendBatches(): Promise<void> {
    while (this.buffer.length > 0) {
      // Taken out while in flight (a status report may take the events behind them meanwhile),
      // put back if the send fails.
      const batch = this.buffer.splice(0, this.maxBatch);
      const since = this.waitingSince;
      this.noteEmptied();
      try {
        await this.opts.client.recordEvents(combineSimilar(batch), this.opts.source);
        this.flusher.succeeded();
        this.failingSince = undefined;
      } catch (e) {
        if (isAppError(e, 'INVALID') || isAppError(e, 'FORBIDDEN') || isAppError(e, 'MALFORMED') || isAppError(e, 'NOT_FOUND')) {
          // Sending it again cannot help (a bug here, or a server without the events endpoint).
          this.opts.logger.warn({ err: describeError(e), dropped: batch.length }, 'server refused events; dropped them');
          continue;
        }
        this.putBack(batch, since);
        this.flusher.failed();
        this.failingSince ??= this.now();
        if (this.now() - this.failingSince >= this.dropAfterMs) {
          this.opts.logger.warn(
            { err: describeError(e), dropped: this.buffer.length, failingForMs: this.now() - this.failingSince },
            'server unreachable for long; dropped buffered events',
          );
          this.buffer = [];
          this.waitingSince = undefined;
          this.failingSince = this.now();
        } else {
          this.opts.logger.debug({ err: describeError(e), buffered: this.buffer.length }, 'event report failed; will retry');
        }
        return;
      }
    }
  }
}

/**
 * The batch with every group of AGGREGATE_MIN or more Normal events of one namespace, service and
 * reason about instances replaced by one event on the Service, where the group's first event was.
 */
export function combineSimilar(batch: readonly Buffered[]): EventReport[] {
  const keyOf = (e: Buffered): string | undefined =>
    e.type === 'Normal' && e.service !== undefined && e.involved.kind === 'Instance' ? `${e.involved.namespace ?? ''}/${e.service}/${e.reason}` : undefined;
  const groups = new Map<string, Buffered[]>();
  for (const e of batch) {
    const key = keyOf(e);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  const out: EventReport[] = [];
  for (const e of batch) {
    const key = keyOf(e);
    const group = key === undefined ? undefined : groups.get(key);
    if (!group || group.length < AGGREGATE_MIN) {
      out.push({ involved: e.involved, type: e.type, reason: e.reason, message: e.message });
      continue;
    }
    if (group[0] !== e) continue;
    out.push({
      involved: { kind: 'Service', namespace: e.involved.namespace, name: e.service! },
      type: 'Normal',
      reason: e.reason,
      message: combinedEventMessage(
        group.map((g) => g.involved.name),
        { name: e.involved.name, message: e.message },
      ),
    });
  }
  return out;
}
