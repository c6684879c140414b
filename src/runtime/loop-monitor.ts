// Event-loop health of this process, logged. Everything the server does (API, watches, store,
// controllers) shares one event loop, so a synchronous stretch anywhere delays everything else:
// a heartbeat that cannot get in, a GET that waits. perf_hooks' monitorEventLoopDelay samples
// how late the loop runs; once a window (default 10 s) the monitor logs its p99 and max (one line,
// `event loop delay`, with the process's memory), at warn when the max passed the stall threshold (default 100 ms), and
// keeps the run's maximum. The bench reads these lines from the server's log.
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';

export interface LoopMonitorOptions {
  logger: Logger;
  /** One log line per window (default 10 s). */
  windowMs?: number;
  /** A window whose max delay is above this logs at warn (default 100 ms). */
  stallMs?: number;
  /** More counts for each window's line (read, and so reset by their owner, once per window). */
  counts?: (() => Record<string, number>) | undefined;
}

export interface LoopDelayWindow {
  /** Delay percentiles and max of the window, ms (the histogram's 10 ms sampling resolution included). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The largest max of any window since the monitor started, ms. */
  runMaxMs: number;
  /**
   * Where the process's memory is at the window's end, MiB: the JS heap in use and as committed
   * (what V8 holds from the system, used or not), memory outside it (Buffers, TLS), resident.
   */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  rssMiB: number;
  /**
   * V8's own view, MiB: the heap's resident pages (heapTotal counts committed ones) and what V8
   * allocated with malloc outside the heap (compiler zones and such). With RSS they say whose
   * memory grows when RSS creeps outside heapTotal.
   */
  heapPhysicalMiB: number;
  v8MallocMiB: number;
  /**
   * Garbage collection in the window: the pauses' sum and the longest one, ms, and how many were
   * full (mark-compact) collections. A delay as long as gcMaxMs was the collector, not our code.
   */
  gcMs: number;
  gcMaxMs: number;
  majorGcs: number;
}

const NS_PER_MS = 1e6;
/** Sampling resolution of the histogram, ms: a delay shows up as at least this much. */
const RESOLUTION_MS = 10;

export class LoopMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private runMaxMs = 0;
  private readonly gcObserver: PerformanceObserver;
  private gc = { ms: 0, maxMs: 0, major: 0 };

  constructor(private readonly opts: LoopMonitorOptions) {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gc.ms += e.duration;
        this.gc.maxMs = Math.max(this.gc.maxMs, e.duration);
        if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) this.gc.major++;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.report(), opts.windowMs ?? 10_000);
    this.timer.unref();
  }

  /** Ends the current window: returns (and logs) its figures and starts the next. */
  report(): LoopDelayWindow | undefined {
    const h = this.histogram;
    if (h.count === 0) return undefined;
    // The histogram measures the delay beyond the sampling interval itself.
    const ms = (ns: number): number => Math.round((Math.max(0, ns / NS_PER_MS - RESOLUTION_MS)) * 10) / 10;
    const mem = process.memoryUsage();
    const v8heap = getHeapStatistics();
    const mib = (b: number): number => Math.round(b / 2 ** 20);
    const window = {
      p50Ms: ms(h.percentile(50)),
      p99Ms: ms(h.percentile(99)),
      maxMs: ms(h.max),
      runMaxMs: 0,
      heapUsedMiB: mib(mem.heapUsed),
      heapTotalMiB: mib(mem.heapTotal),
      externalMiB: mib(mem.external),
      rssMiB: mib(mem.rss),
      heapPhysicalMiB: mib(v8heap.total_physical_size),
      v8MallocMiB: mib(v8heap.malloced_memory),
      gcMs: Math.round(this.gc.ms),
      gcMaxMs: Math.round(this.gc.maxMs * 10) / 10,
      majorGcs: this.gc.major,
    };
    this.gc = { ms: 0, maxMs: 0, major: 0 };
    this.runMaxMs = Math.max(this.runMaxMs, window.maxMs);
    window.runMaxMs = this.runMaxMs;
    h.reset();
    const stalled = window.maxMs > (this.opts.stallMs ?? 100);
    this.opts.logger[stalled ? 'warn' : 'info']({ ...window, ...this.opts.counts?.() }, 'event loop delay');
    return window;
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
    this.gcObserver.disconnect();
  }
}
