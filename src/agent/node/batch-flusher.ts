// The timing half of a batching reporter (StatusReporter, EventReporter): sends never overlap, a
// timer is armed only while something waits, and while the server fails the wait between
// attempts doubles up to a cap. What waits and how it is sent stay with the reporter.

export interface BatchFlusherOptions {
  /** Wait before a send while the server is healthy. */
  intervalMs: number;
  /**
   * While the server is healthy, a send on the timer starts no sooner than this after the last
   * send started (read at each arming; default intervalMs): what keeps changing goes once per
   * spacing, in bigger batches, while a change after a quiet spell still goes after intervalMs.
   */
  minSpacingMs?: (() => number) | undefined;
  /** Longest wait between retries while the server fails. */
  maxRetryDelayMs: number;
  /** Something waits to be sent; the timer is armed only then. */
  hasWork: () => boolean;
  /**
   * Starts sending what waits, or returns undefined when there is nothing to send (or, `onTimer`,
   * nothing worth a request yet: the timer is armed again while hasWork()). `onTimer` is false for
   * flush() and stop(), which must send what waits. Reports the outcome through succeeded() /
   * failed(); must not reject.
   */
  send: (onTimer: boolean) => Promise<void> | undefined;
}

export class BatchFlusher {
  private timer: NodeJS.Timeout | undefined;
  /** A flush is due or running on the timer's behalf; the next is scheduled when it is done. */
  private scheduled = false;
  /** Bumped by stop(): a flush the timer started before it must not re-arm after a restart. */
  private generation = 0;
  private inFlight: Promise<void> | undefined;
  private failureCount = 0;
  private stopped = true;
  /** When the last send started (Date.now()); undefined before the first. */
  private lastSendAt: number | undefined;

  constructor(private readonly opts: BatchFlusherOptions) {}

  /** Consecutive failed sends; 0 while the server accepts them. */
  get failures(): number {
    return this.failureCount;
  }

  /** The server took a send: back to the normal interval. */
  succeeded(): void {
    this.failureCount = 0;
  }

  /** A send failed: the next attempt waits twice as long as the last, up to the cap. */
  failed(): void {
    this.failureCount++;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Waits for a send under way, then sends what waits now. */
  flush(): Promise<void> {
    return this.sendNow(false);
  }

  private async sendNow(onTimer: boolean): Promise<void> {
    while (this.inFlight) await this.inFlight;
    const sending = this.opts.send(onTimer);
    if (!sending) return;
    this.lastSendAt = Date.now();
    this.inFlight = sending.finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  /** Disarms the timer and makes one last flush; nothing is scheduled until start(). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = false;
    this.generation++;
    await this.flush();
  }

  /**
   * Arms the flush timer when there is something to send. An idle reporter has no timer: with
   * thousands of agents in one process (gantry sim) a tick each is thousands of wake-ups a second
   * that find nothing to do.
   */
  schedule(): void {
    if (this.stopped || this.scheduled || !this.opts.hasWork()) return;
    this.scheduled = true;
    const generation = this.generation;
    const { intervalMs, maxRetryDelayMs, minSpacingMs } = this.opts;
    const spaced = this.lastSendAt === undefined || !minSpacingMs ? intervalMs : Math.max(intervalMs, this.lastSendAt + minSpacingMs() - Date.now());
    const delayMs = this.failureCount === 0 ? spaced : Math.min(maxRetryDelayMs, intervalMs * 2 ** this.failureCount);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendNow(true).then(() => {
        if (generation !== this.generation) return;
        this.scheduled = false;
        this.schedule();
      });
    }, delayMs);
  }
}
