// Sends the agent's events to the server in batches, like the status reporter: everything emitted
// within one flush interval (about a second) becomes one request. Events are history, not state,
// so the buffer is bounded: when it is full the oldest go, and while the server stays unreachable
// for long the backlog is dropped, each time with one log line saying how many.
import type { Logger } from 'pino';
import { describeError, isAppError } from '../../core/index.js';
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

export class EventReporter {
  private buffer: EventReport[] = [];
  private failingSince: number | undefined;
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
      send: () => {
        this.noteOverflow();
        return this.buffer.length === 0 ? undefined : this.sendBatches();
      },
    });
  }

  start(): void {
    this.flusher.start();
  }

  /** Queues one event; never blocks and never throws. */
  emit(involved: EventReport['involved'], type: EventReport['type'], reason: string, message: string): void {
    this.buffer.push({ involved, type, reason, message });
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.shift();
      this.overflow++;
    }
    this.flusher.schedule();
  }

  get pendingCount(): number {
    return this.buffer.length;
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

  private async sendBatches(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.maxBatch);
      try {
        await this.opts.client.recordEvents(batch, this.opts.source);
        this.buffer.splice(0, batch.length);
        this.flusher.succeeded();
        this.failingSince = undefined;
      } catch (e) {
        if (isAppError(e, 'INVALID') || isAppError(e, 'FORBIDDEN') || isAppError(e, 'MALFORMED') || isAppError(e, 'NOT_FOUND')) {
          // Sending it again cannot help (a bug here, or a server without the events endpoint).
          this.buffer.splice(0, batch.length);
          this.opts.logger.warn({ err: describeError(e), dropped: batch.length }, 'server refused events; dropped them');
          continue;
        }
        this.flusher.failed();
        this.failingSince ??= this.now();
        if (this.now() - this.failingSince >= this.dropAfterMs) {
          this.opts.logger.warn(
            { err: describeError(e), dropped: this.buffer.length, failingForMs: this.now() - this.failingSince },
            'server unreachable for long; dropped buffered events',
          );
          this.buffer = [];
          this.failingSince = this.now();
        } else {
          this.opts.logger.debug({ err: describeError(e), buffered: this.buffer.length }, 'event report failed; will retry');
        }
        return;
      }
    }
  }
}
