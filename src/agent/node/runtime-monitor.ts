// Watches whether the container runtime answers (dockerd restarting with live-restore, a hung
// daemon). While it is away nothing is recreated: runners' calls fail and are retried with
// back-off, and containers keep running. When it answers again the agent re-reads state instead
// of trusting what it concluded during the outage. Tells it as Node events (DockerUnavailable,
// DockerReconnected) and through the node's DockerReachable condition.
import type { Logger } from 'pino';
import { describeError, sleep } from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';

export interface RuntimeMonitorOptions {
  driver: Driver;
  logger: Logger;
  /** How often the runtime is pinged while it answers; default 2000; 0 turns the monitor off (hollow nodes: no runtime to lose). */
  intervalMs?: number | undefined;
  /** Longest wait between pings while it does not; default 5000 (starts at 250, doubling). */
  maxRetryMs?: number | undefined;
  onDown: (error: string) => void;
  /** Re-read state; a failure means the runtime is still not usable (retried). */
  onUp: (downForMs: number) => Promise<void>;
  /** How long each answered ping took (the node's DockerResponsive condition). */
  onPing?: ((tookMs: number) => void) | undefined;
}

export class RuntimeMonitor {
  private downSince: number | undefined;
  private failures = 0;
  private busy = false;

  constructor(private readonly opts: RuntimeMonitorOptions) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Pings until the signal aborts: on an interval while up, with back-off while down. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.opts.intervalMs ?? 2000;
    if (interval === 0) return;
    const maxRetry = this.opts.maxRetryMs ?? 5000;
    while (!signal.aborted) {
      await this.check();
      const wait = this.down ? Math.min(maxRetry, 250 * 2 ** Math.min(this.failures, 10)) : interval;
      await sleep(wait, signal);
    }
  }

  /** One ping (and, after an outage, the re-read). Safe to call any time; overlapping calls collapse. */
  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const started = performance.now();
      await this.opts.driver.ping();
      this.opts.onPing?.(Math.round(performance.now() - started));
      if (this.downSince !== undefined) {
        await this.opts.onUp(Date.now() - this.downSince);
        this.downSince = undefined;
      }
      this.failures = 0;
    } catch (e) {
      this.failures++;
      if (this.downSince === undefined) {
        this.downSince = Date.now();
        this.opts.logger.warn({ err: describeError(e) }, 'container runtime unavailable; containers keep running, retrying');
        this.opts.onDown(describeError(e));
      }
    } finally {
      this.busy = false;
    }
  }
}
