// Figures and charts of the end-to-end scenarios, from one session's measurements over a window
// of its bench clock. Shared so e2e, node-loss and churn report the same keys the same way.
import { availableParallelism, loadavg } from 'node:os';
import type { Figure } from '../scenario.js';
import type { ProbeKind } from './api-probe.js';
import type { LiveSession } from './live-session.js';
import type { RolloutRecord } from './rollout.js';
import { round, secondsSince } from './rollout.js';
import { percentile, ratePerBucket } from './stats.js';
import { serverHealthFigures } from './health-figures.js';
import type { LineChartSpec } from './svg-line-chart.js';

export const GET_KINDS: readonly ProbeKind[] = ['getService', 'getInstance'];
export const APPLY_KINDS: readonly ProbeKind[] = ['applyUnchanged', 'scale'];
const LATENCY_BUCKET_MS = 2000;

/** The e2e keys for one rollout (churn: one round). */
export function rolloutFigures(session: LiveSession, rec: RolloutRecord): Record<string, Figure> {
  const endMs = rec.statusReadyMs ?? rec.runningMs ?? session.now();
  const boundSeconds = secondsSince(rec, rec.boundMs);
  return {
    allRunningSeconds: secondsSince(rec, rec.runningMs),
    allBoundSeconds: boundSeconds,
    statusReadySeconds: secondsSince(rec, rec.statusReadyMs),
    applySeconds: secondsSince(rec, rec.appliedMs),
    applyRetries: rec.applyRetries,
    serviceApplyP50Ms: rec.applyMs.length ? round(percentile(rec.applyMs, 50), 1) : null,
    serviceApplyP99Ms: rec.applyMs.length ? round(percentile(rec.applyMs, 99), 1) : null,
    placementsPerSecond: boundSeconds ? round(rec.replicas / boundSeconds, 0) : null,
    ...probeFigures(session, rec.startMs, endMs),
    serverCpuSeconds: round(session.serverSampler.cpuSecondsBetween(rec.startMs, endMs), 2),
  };
}

/** API probe latencies (ms) of requests sent in [fromMs, toMs). */
export function probeFigures(session: LiveSession, fromMs: number, toMs: number): Record<string, Figure> {
  const probe = session.probe;
  const gets = probe?.latencies(GET_KINDS, fromMs, toMs) ?? [];
  const applies = probe?.latencies(APPLY_KINDS, fromMs, toMs) ?? [];
  const ms = (v: number): number | null => (Number.isNaN(v) ? null : round(v, 1));
  return {
    apiGetP50Ms: ms(percentile(gets, 50)),
    apiGetP99Ms: ms(percentile(gets, 99)),
    apiApplyP50Ms: ms(percentile(applies, 50)),
    apiApplyP99Ms: ms(percentile(applies, 99)),
    probeRequests: gets.length + applies.length,
    probeFailures: probe?.failures(fromMs, toMs) ?? 0,
  };
}

/** Process figures over the whole session: memory peaks and CPU of server and sims. */
export function processFigures(session: LiveSession): Record<string, Figure> {
  return {
    serverPeakRssMiB: round(session.serverSampler.peakRssMiB(), 0),
    serverCpuTotalSeconds: round(session.serverSampler.cpuSecondsTotal(), 2),
    simPeakRssMiB: round(Math.max(0, ...session.simSamplers.map((s) => s.peakRssMiB())), 0),
    simCpuTotalSeconds: round(session.simSamplers.reduce((n, s) => n + s.cpuSecondsTotal(), 0), 2),
    registerSeconds: round(session.cluster.registerSeconds, 2),
    hostCpus: availableParallelism(),
    hostLoadAtStart: round(session.loadAtStart, 2),
    hostLoadAtEnd: round(loadavg()[0] ?? 0, 2),
    hostSpeedAtStart: session.hostSpeedAtStart,
  };
}

/**
 * Event-loop health and footprint over the whole session: the server's loop delay (from its
 * log), the sims' heartbeat send delay, the state file's size. See health-figures.ts.
 */
export async function healthFigures(session: LiveSession): Promise<Record<string, Figure>> {
  return { ...(await serverHealthFigures(session.cluster.dataDir)), ...session.simLag.figures() };
}

/** The summary line of healthFigures' keys. */
export function healthLine(f: Record<string, Figure>): string {
  const v = (x: Figure | undefined, unit: string): string => (x === null || x === undefined ? '?' : `${String(x)} ${unit}`);
  return (
    `event loop: server max delay ${v(f.serverLoopMaxMs, 'ms')}, worst 10 s window p99 ${v(f.serverLoopP99Ms, 'ms')}, ` +
    `${String(f.serverLoopStallWindows)} of ${String(f.serverLoopWindows)} windows over 100 ms (server log); ` +
    `longest GC pause ${v(f.serverGcMaxMs, 'ms')} (${v(f.serverGcInLoopMaxMs, 'ms')} in the window of the max delay); ` +
    `sim heartbeat send delay p99 ${v(f.simHeartbeatDelayP99Ms, 'ms')}, max ${v(f.simHeartbeatDelayMaxMs, 'ms')} (worst of ${String(f.simLagReports)} reports), sim event loop max delay ${v(f.simLoopMaxMs, 'ms')}; ` +
    `state file ${v(f.stateFileMiB, 'MiB')} (state.db + WAL at the end)`
  );
}

/**
 * Charts from `fromMs` on (x = seconds since then): instances running and bound (watch) and ready
 * (service status); placements and starts per second; CPU and RSS of the processes; API latency.
 */
export function liveCharts(session: LiveSession, fromMs: number, what: string): LineChartSpec[] {
  const x = (ms: number): number => (ms - fromMs) / 1000;
  const after = <T extends { atMs: number }>(rows: readonly T[]): T[] => rows.filter((r) => r.atMs >= fromMs);
  const timeline = after(session.tracker.timeline);
  const endMs = Math.max(fromMs + 1, ...timeline.map((p) => p.atMs));
  const buckets = Math.max(5, Math.min(60, Math.round((endMs - fromMs) / 1000)));
  const rate = (times: readonly number[]): [number, number][] =>
    ratePerBucket(
      times.filter((t) => t >= fromMs).map((t) => ({ startMs: t - fromMs, endMs: t - fromMs, count: 1 })).concat([{ startMs: endMs - fromMs, endMs: endMs - fromMs, count: 0 }]),
      buckets,
    ).map(([ms, v]) => [ms / 1000, v]);
  const xLabel = `seconds since ${what}`;
  const samples = session.probe?.samples ?? [];
  const latency = (kinds: readonly ProbeKind[]): [number, number][] => {
    const byBucket = new Map<number, number[]>();
    for (const s of samples) {
      if (!s.ok || s.atMs < fromMs || !kinds.includes(s.kind)) continue;
      const b = Math.floor((s.atMs - fromMs) / LATENCY_BUCKET_MS);
      byBucket.set(b, [...(byBucket.get(b) ?? []), s.ms]);
    }
    return [...byBucket].sort((a, b) => a[0] - b[0]).map(([b, v]) => [((b + 0.5) * LATENCY_BUCKET_MS) / 1000, percentile(v, 99)]);
  };
  const charts: LineChartSpec[] = [
    {
      title: 'Instances (watch: bound, Running; service status: ready)',
      xLabel,
      yLabel: 'instances',
      series: [
        { name: 'Running (watch)', points: timeline.map((p) => [x(p.atMs), p.running]) },
        { name: 'bound (watch)', points: timeline.map((p) => [x(p.atMs), p.bound]) },
        { name: 'ready (sum of service status)', points: after(session.poller.readings).map((r) => [x(r.atMs), r.ready]) },
      ],
    },
    {
      title: `Placements and starts per second (${buckets} buckets)`,
      xLabel,
      yLabel: 'instances/s',
      series: [
        { name: 'bound/s', points: rate(session.tracker.bindTimes) },
        { name: 'Running/s', points: rate(session.tracker.runningTimes) },
      ],
    },
    {
      title: 'CPU (cores busy; 1.0 = one core)',
      xLabel,
      yLabel: 'cores',
      series: [
        { name: 'server', points: session.serverSampler.cpuSeries().filter(([t]) => t >= fromMs).map(([t, v]) => [x(t), v]) },
        ...session.simSamplers.map((s, i) => ({ name: `sim ${i + 1}`, points: s.cpuSeries().filter(([t]) => t >= fromMs).map(([t, v]): [number, number] => [x(t), v]) })),
      ],
    },
    {
      title: 'Resident memory (VmRSS)',
      xLabel,
      yLabel: 'MiB',
      series: [
        { name: 'server', points: after(session.serverSampler.samples).map((s) => [x(s.atMs), s.rssMiB]) },
        ...session.simSamplers.map((sm, i) => ({ name: `sim ${i + 1}`, points: after(sm.samples).map((s): [number, number] => [x(s.atMs), s.rssMiB]) })),
      ],
    },
    {
      title: `API probe latency, p99 per ${LATENCY_BUCKET_MS / 1000} s`,
      xLabel,
      yLabel: 'ms',
      series: [
        { name: 'GET service/instance', points: latency(GET_KINDS) },
        { name: 'apply unchanged / scale', points: latency(APPLY_KINDS) },
      ],
    },
  ];
  // A killed sim has no samples after the kill: leave its empty line out of the legend.
  return charts.map((c) => ({ ...c, series: c.series.filter((x) => x.points.length > 0) }));
}
