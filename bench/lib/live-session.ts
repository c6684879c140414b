// Everything one end-to-end run owns, started and stopped together: the cluster processes, the
// samplers of their CPU and memory, the instance watch, the service-status poller and the API
// probe. One bench clock (ms since the session started) stamps every measurement.
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, ScenarioResult } from '../scenario.js';
import { ApiProbe, PROBE_SERVICE, PROBE_STATIC_SERVICE, probeServiceManifest } from './api-probe.js';
import { digestProfile, profileLines } from './cpu-profile.js';
import { measureHostSpeed } from './host-speed.js';
import { InstanceTracker } from './instance-tracker.js';
import { SimLagTracker } from './health-figures.js';
import type { LiveSettings } from './live-flags.js';
import { simProfileName, startLiveCluster } from './live-cluster.js';
import type { LiveCluster, NodeGroup } from './live-cluster.js';
import type { ServiceManifest } from './live-workload.js';
import { ProcSampler } from './proc-sampler.js';
import { round } from './rollout.js';
import { fetchMetrics, histogramQuantileMs, sumOf } from './server-metrics.js';
import type { MetricSample } from './server-metrics.js';
import { ServiceStatusPoller } from './service-status-poller.js';
import { sleep } from './sleep.js';

export const NODE_CAPACITY = 'cpu=32,memory=128Gi';
const PROGRESS_EVERY_MS = 5000;
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function writeProgress(t0: number, line: string): void {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
}

export interface SessionOptions {
  settings: LiveSettings;
  groups: readonly NodeGroup[];
  nodeGracePeriod: string;
  /** More `gantry server` flags. */
  serverArgs?: readonly string[] | undefined;
}

export class LiveSession {
  /** Workload services as applied and not deleted, by name: the probe's targets. */
  readonly applied = new Map<string, ServiceManifest>();
  /** The server process now; a restart replaces it (the ones before are in earlierServerSamplers). */
  serverSampler: ProcSampler;
  readonly earlierServerSamplers: ProcSampler[] = [];
  readonly simSamplers: ProcSampler[];
  readonly tracker: InstanceTracker;
  readonly poller: ServiceStatusPoller;
  /** The sims' heartbeat send delay reports. */
  readonly simLag = new SimLagTracker();
  /** Processes that were stopped on purpose (node loss) and must not count as crashes. */
  readonly expectedDead = new Set<number>();
  /** The host's 1-minute load average when the session started: other work skews every figure. */
  readonly loadAtStart = loadavg()[0] ?? 0;
  /** host-speed.ts, measured before the server started: this machine's speed at the time. */
  hostSpeedAtStart = 0;
  private runningProbe: ApiProbe | undefined;
  /** The server's counters when the probe started, to take the server's own view of its requests. */
  private metricsAtProbeStart: Promise<MetricSample[]> | undefined;
  /** The bench clock (ms) at that scrape. */
  private probeStartedMs = 0;
  /**
   * This process's own event-loop delay: the probe and the watch run here, so a bench that is
   * itself late inflates what the probe measures. Printed beside the probe's figures.
   */
  readonly benchLoop = monitorEventLoopDelay({ resolution: 20 });
  private readonly t0: number;

  private constructor(
    readonly cluster: LiveCluster,
    private readonly signal: AbortSignal,
    t0: number,
    private readonly serverProfile: string | undefined,
  ) {
    this.t0 = t0;
    this.benchLoop.enable();
    const now = (): number => this.now();
    this.serverSampler = new ProcSampler(cluster.server.pid, now);
    this.simSamplers = [...cluster.sims.values()].map((s) => new ProcSampler(s.pid, now));
    for (const sim of cluster.sims.values()) sim.onLine(this.simLag.onLine);
    this.tracker = new InstanceTracker(cluster.client, now, new Set([PROBE_SERVICE, PROBE_STATIC_SERVICE]), signal);
    this.poller = new ServiceStatusPoller(cluster.client, now, signal);
  }

  /** Starts the cluster, waits for every node, applies the probe's services and syncs the watch. */
  static async start(o: SessionOptions, signal: AbortSignal): Promise<LiveSession> {
    const t0 = performance.now();
    const progress = (line: string): void => writeProgress(t0, line);
    const s = o.settings;
    const hostSpeed = measureHostSpeed();
    progress(`host speed: ${hostSpeed}k JSON round trips a second on one thread (host-speed.ts; compare runs at similar speeds)`);
    let serverProfile: string | undefined;
    if (s.profile) {
      await mkdir(RESULTS_DIR, { recursive: true });
      serverProfile = join(RESULTS_DIR, `server-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    }
    const cluster = await startLiveCluster(
      { groups: o.groups, racks: s.racks, capacity: NODE_CAPACITY, startLatency: s.startLatency, nodeGracePeriod: o.nodeGracePeriod, timeoutMs: s.timeoutMs, keep: s.keep, progress, serverProfile, store: s.store, serverArgs: o.serverArgs },
      signal,
    );
    const session = new LiveSession(cluster, signal, t0, serverProfile);
    session.hostSpeedAtStart = hostSpeed;
    try {
      await cluster.client.apply(probeServiceManifest(PROBE_SERVICE));
      await cluster.client.apply(probeServiceManifest(PROBE_STATIC_SERVICE));
      const synced = await session.waitFor(() => session.tracker.isSynced, 30_000);
      if (synced === undefined) throw new Error('the instance watch did not list within 30 s');
      return session;
    } catch (e) {
      await session.close();
      throw e;
    }
  }

  /**
   * Restarts the server (cluster.restartServer) and samples the new process from then on. Returns
   * bench-clock times of the old one's exit and the new one's listening line.
   */
  async restartServer(crash: boolean): Promise<{ stoppedMs: number; listeningMs: number }> {
    const oldPid = this.cluster.server.pid;
    this.expectedDead.add(oldPid);
    const r = await this.cluster.restartServer(crash, this.signal);
    this.serverSampler.stop();
    this.earlierServerSamplers.push(this.serverSampler);
    this.serverSampler = new ProcSampler(this.cluster.server.pid, () => this.now());
    return { stoppedMs: r.stoppedMs - this.t0, listeningMs: r.listeningMs - this.t0 };
  }

  /** One progress line on stderr (stdout is the scenario's result). */
  progress(line: string): void {
    writeProgress(this.t0, line);
  }

  /**
   * Runs the scenario's body and closes the session whatever happens. An error gains what the
   * server was doing: whether it still runs, and the end of its log. With --profile the summary
   * gains the server's hottest functions (the profile is written when the server exits).
   */
  async run(body: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
    let result: ScenarioResult;
    try {
      result = await body();
    } catch (e) {
      // Read the server's state and log before close() stops it and removes the log.
      const server = this.cluster.server;
      const state = server.running ? `was still running (pid ${server.pid})` : `had ended (pid ${server.pid})`;
      const tail = server.logTail();
      await this.close();
      if (this.signal.aborted || !(e instanceof Error)) throw e;
      throw new Error(`${e.message}\nthe gantry server ${state}; its log ended:\n${tail}`, { cause: e });
    }
    await this.close();
    if (this.serverProfile) {
      const path = relative(process.cwd(), this.serverProfile);
      try {
        result.summary.push(...profileLines(path, await digestProfile(this.serverProfile)));
      } catch (e) {
        result.summary.push(`server profile: none at ${path} (${e instanceof Error ? e.message : String(e)})`);
      }
      if (this.earlierServerSamplers.length > 0) {
        const restarted = this.serverProfile.replace(/\.cpuprofile$/, '-restarted.cpuprofile');
        try {
          result.summary.push(...profileLines(relative(process.cwd(), restarted), await digestProfile(restarted), 'restarted server'));
        } catch (e) {
          result.summary.push(`restarted server profile: none at ${restarted} (${e instanceof Error ? e.message : String(e)})`);
        }
      }
      for (const prefix of this.cluster.sims.keys()) {
        const simPath = join(dirname(this.serverProfile), simProfileName(this.serverProfile, prefix));
        try {
          result.summary.push(...profileLines(relative(process.cwd(), simPath), await digestProfile(simPath), `sim ${prefix}`));
        } catch (e) {
          result.summary.push(`sim ${prefix} profile: none at ${simPath} (${e instanceof Error ? e.message : String(e)})`);
        }
      }
    }
    return result;
  }

  /** The server's /metrics now; [] when it does not answer. */
  scrape(): Promise<MetricSample[]> {
    return fetchMetrics(this.cluster.url, this.cluster.adminToken, this.cluster.ca, 30_000).catch(() => []);
  }

  /**
   * The server's own p99 (the upper bound of its histogram bucket, ms) of the probe's kinds of
   * request since the probe started: time from the request read to the answer written, so a gap
   * to the probe's figure is time spent in the network, TLS, the kernel's queues or this process.
   * Apply counts the workload's own applies too (one route).
   */
  async serverLatencyFigures(): Promise<Record<string, Figure>> {
    const before = await (this.metricsAtProbeStart ?? Promise.resolve([]));
    const after = await this.scrape();
    const name = 'gantry_api_request_duration_seconds';
    const gets = histogramQuantileMs(before, after, name, ['services.get', 'instances.get'], 0.99);
    const writes = histogramQuantileMs(before, after, name, ['services.apply', 'services.scale'], 0.99);
    const throttled = (samples: readonly MetricSample[]): number => sumOf(samples, `${name}_count`, { code: '429' });
    const seconds = (this.now() - this.probeStartedMs) / 1000;
    const rates = before.length && after.length && seconds > 0 ? requestRates(before, after, `${name}_count`, seconds) : undefined;
    const deferred = 'gantry_store_writes_deferred_total';
    return {
      // What the server answered meanwhile, by route: where a rollout's requests come from.
      serverRequestsPerSecond: rates ? Math.round(rates.total) : null,
      serverBusiestRoutes: rates ? rates.top.map(([route, r]) => `${route} ${Math.round(r)}/s`).join(', ') : null,
      serverDeferredWrites: before.length && after.length ? sumOf(after, deferred) - sumOf(before, deferred) : null,
      serverThrottled: throttled(after) - throttled(before),
      serverGetP99UpToMs: before.length && after.length ? gets.upToMs : null,
      serverGets: gets.count,
      serverApplyP99UpToMs: before.length && after.length ? writes.upToMs : null,
      serverApplies: writes.count,
      benchLoopMaxMs: round(this.benchLoop.max / 1e6, 1),
      benchLoopP99Ms: round(this.benchLoop.percentile(99) / 1e6, 1),
    };
  }

  /** The bench clock: ms since the session started. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** The API probe, once started. */
  get probe(): ApiProbe | undefined {
    return this.runningProbe;
  }

  startProbe(rate: number, seed: number): ApiProbe {
    if (!this.metricsAtProbeStart) {
      this.probeStartedMs = this.now();
      this.metricsAtProbeStart = this.scrape();
    }
    const names = (): ServiceManifest[] => [...this.applied.values()];
    this.runningProbe ??= new ApiProbe(
      this.cluster.client,
      {
        service: (u) => {
          const all = names();
          return all[Math.floor(u * all.length)];
        },
        instance: (u) => this.tracker.sampleName(u),
      },
      () => this.now(),
      rate,
      seed,
    );
    return this.runningProbe;
  }

  /**
   * Polls `cond` (cheap, in memory) every `everyMs` until it holds; returns the bench time it
   * first held, or undefined after `timeoutMs`. Throws if a cluster process died unexpectedly.
   * `report` is called every 5 s for a progress line.
   */
  async waitFor(cond: () => boolean, timeoutMs: number, everyMs = 50, report?: () => string): Promise<number | undefined> {
    const deadline = this.now() + timeoutMs;
    let reportedAt = this.now();
    for (;;) {
      if (cond()) return this.now();
      this.assertAlive();
      if (this.now() > deadline) return undefined;
      if (report && this.now() - reportedAt > PROGRESS_EVERY_MS) {
        this.progress(report());
        reportedAt = this.now();
      }
      await sleep(everyMs, this.signal);
    }
  }

  /** Like waitFor, with a condition that asks the server. */
  async waitForAsync(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<number | undefined> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      if (await cond()) return this.now();
      this.assertAlive();
      if (this.now() > deadline) return undefined;
      await sleep(everyMs, this.signal);
    }
  }

  assertAlive(): void {
    for (const p of [this.cluster.server, ...this.cluster.sims.values()]) {
      if (!p.running && !this.expectedDead.has(p.pid)) throw new Error(`${p.label} (pid ${p.pid}) ended during the run; its log ends:\n${p.logTail()}`);
    }
  }

  /** Stops the probe, watch, poller and samplers, then the processes; removes the temp dir. */
  async close(): Promise<void> {
    await this.runningProbe?.stop();
    this.benchLoop.disable();
    await this.tracker.stop().catch(() => undefined);
    await this.poller.stop();
    this.serverSampler.stop();
    for (const s of this.simSamplers) s.stop();
    await this.cluster.close();
  }
}

/** Requests a second between two scrapes of a counter labelled by route: the total and the `top` busiest routes (default 4). */
export function requestRates(before: readonly MetricSample[], after: readonly MetricSample[], name: string, seconds: number, top = 4): { total: number; top: [string, number][] } {
  const byRoute = (samples: readonly MetricSample[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of samples) if (x.name === name) m.set(x.labels.route ?? '?', (m.get(x.labels.route ?? '?') ?? 0) + x.value);
    return m;
  };
  const was = byRoute(before);
  const rates = [...byRoute(after)].map(([route, n]): [string, number] => [route, (n - (was.get(route) ?? 0)) / seconds]).filter(([, r]) => r > 0);
  return { total: rates.reduce((t, [, r]) => t + r, 0), top: rates.sort((a, b) => b[1] - a[1]).slice(0, top) };
}
