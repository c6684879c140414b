// Probes one container's health check: waits startPeriod, then probes every interval. `retries`
// failures in a row make it unhealthy (the runner then restarts the container); one success
// makes it healthy. Unhealthy until the first success: a container is not ready before it says so.
//
// Until that first success the probes come every startInterval (default 250 ms, never more than
// interval), as Docker's --health-start-interval: a container that listens 100 ms after its start
// is ready then, not one whole interval later. Those early probes do not hasten the verdict: a
// failure counts towards `retries` only once an interval has passed since the last one counted,
// so a container that never answers is judged unhealthy when it was before.
import type { Logger } from 'pino';
import { parseDuration, type ContainerSpec, type HealthCheck } from '../../core/index.js';
import type { ContainerState, Driver } from '../../drivers/driver.js';

export interface HealthCheckerOptions {
  driver: Driver;
  check: HealthCheck;
  /** Every port of the instance: its containers share one network namespace. */
  ports: ContainerSpec['ports'];
  /** What to probe now: for containers after the first, carries the first one's host ports. */
  target: () => ContainerState | undefined;
  /** Called on every change of `healthy`. */
  onChange: (healthy: boolean) => void;
  /**
   * Called once when `retries` probes failed in a row; probing then stops until start().
   * `reason` is the last probe's own message ("GET / -> 500").
   */
  onUnhealthy: (message: string, failures: number, reason: string) => void;
  logger: Logger;
}

const DEFAULT_START_INTERVAL_MS = 250;

export class HealthChecker {
  private healthyNow = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by start/stop so a probe in flight from an older run is ignored. */
  private generation = 0;
  private lastMessageText: string | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly startPeriodMs: number;
  private readonly retries: number;
  private readonly startIntervalMs: number;
  /** A probe passed since start(): probes then come every interval. */
  private passed = false;
  /** When the last failure that counted towards `retries` was probed (performance.now()). */
  private lastCountedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: HealthCheckerOptions) {
    const c = opts.check;
    this.intervalMs = parseDuration(c.interval ?? '10s') ?? 10_000;
    this.startIntervalMs = Math.min(this.intervalMs, parseDuration(c.startInterval ?? '250ms') ?? DEFAULT_START_INTERVAL_MS);
    this.timeoutMs = parseDuration(c.timeout ?? '2s') ?? 2_000;
    this.startPeriodMs = parseDuration(c.startPeriod ?? '0s') ?? 0;
    this.retries = c.retries ?? 3;
  }

  get healthy(): boolean {
    return this.healthyNow;
  }

  /** The last failing probe's message, cleared by a success. */
  get lastMessage(): string | undefined {
    return this.lastMessageText;
  }

  /**
   * (Re)starts probing for a freshly started container. `assumeHealthy` is for containers adopted
   * from a previous agent that were ready: their readiness should not flap because we restarted.
   */
  start(assumeHealthy = false): void {
    this.stop();
    this.failures = 0;
    this.passed = assumeHealthy;
    this.lastCountedAt = Number.NEGATIVE_INFINITY;
    this.setHealthy(assumeHealthy);
    const gen = this.generation;
    this.schedule(gen, this.startPeriodMs);
  }

  stop(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(gen: number, delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.probeOnce(gen);
    }, delayMs);
  }

  private async probeOnce(gen: number): Promise<void> {
    const state = this.opts.target();
    let ok = false;
    let message: string | undefined;
    if (!state?.running) {
      message = 'container is not running';
    } else {
      try {
        const r = await this.opts.driver.probe(state, this.opts.ports, this.opts.check, this.timeoutMs);
        ok = r.ok;
        message = r.message;
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
    }
    if (gen !== this.generation) return;
    if (ok) {
      this.failures = 0;
      this.passed = true;
      this.lastMessageText = undefined;
      this.setHealthy(true);
    } else {
      const now = performance.now();
      // Before the first success, a failure counts once per interval (the early probes are extra).
      if (this.passed || now - this.lastCountedAt >= this.intervalMs) {
        this.failures++;
        this.lastCountedAt = now;
      }
      this.lastMessageText = `health check failed: ${message ?? 'no reason given'}`;
      if (this.failures >= this.retries) {
        this.setHealthy(false);
        this.opts.logger.info({ failures: this.failures, reason: message }, 'health check failed; container unhealthy');
        this.opts.onUnhealthy(this.lastMessageText, this.failures, message ?? 'no reason given');
        return;
      }
    }
    this.schedule(gen, this.passed ? this.intervalMs : this.startIntervalMs);
  }

  private setHealthy(v: boolean): void {
    if (this.healthyNow === v) return;
    this.healthyNow = v;
    this.opts.onChange(v);
  }
}
