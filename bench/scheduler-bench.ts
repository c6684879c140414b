// Scenario `scheduler`: the pure scheduler alone on a synthetic cluster. One schedule() call per
// service, as the scheduling controller batches a service's pending instances, with each plan
// applied to the node snapshots before the next call. Throughput comes from those calls; decision
// latency from separate one-request probe calls (see measureDecision), never from a batch's
// time divided by its size.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { schedule, SeededRandom } from '../src/scheduler/index.js';
import type { PlacementFailure, PlacementRequest, ScheduleOptions } from '../src/scheduler/index.js';
import { BenchCluster } from './lib/bench-cluster.js';
import type { FlagReader } from './lib/flags.js';
import { percentile, ratePerBucket } from './lib/stats.js';
import type { Interval } from './lib/stats.js';
import { syntheticNodes, syntheticServices } from './lib/synthetic-cluster.js';
import type { SyntheticService } from './lib/synthetic-cluster.js';
import { verifyPlacements } from './lib/verify-placements.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const SPREAD_KEYS = ['rack', 'pool'] as const;
const STRATEGIES = ['binpack', 'spread'] as const;
/** "Most services" carry `pool=web` under --constraints; 80% of nodes are in that pool. */
const CONSTRAINED_FRACTION = 0.8;
const WEB_FRACTION = 0.8;
const HOST_PORT_FRACTION = 0.05;
const MIN_REPLICAS = 10;
const MAX_REPLICAS = 50;
/** Probe calls made before measuring, so the first samples do not time the JIT compiler. */
const WARM_UP_CALLS = 200;
/** Give SIGINT a chance to land this often during the otherwise synchronous loop. */
const YIELD_EVERY_MS = 100;
/** The fill figure compares the overall rate with the rate over this many first placements. */
const FILL_REFERENCE = 20_000;

interface Settings {
  nodes: number;
  instances: number;
  racks: number;
  spread: string[];
  constraints: boolean;
  strategy: (typeof STRATEGIES)[number];
  seed: number;
  sampleEvery: number;
}

export const schedulerBench: Scenario = {
  name: 'scheduler',
  description: 'the pure scheduler on synthetic nodes: placements/s and per-decision latency',
  flags: {
    nodes: { type: 'string', default: '1000', value: '<n>', description: 'synthetic nodes (32 cores, 128Gi each)' },
    instances: { type: 'string', default: '5000', value: '<n>', description: 'placement requests, in services of 10-50 replicas' },
    racks: { type: 'string', default: '50', value: '<n>', description: 'nodes get label rack=r<i % racks>' },
    spread: { type: 'string', value: '<keys>', description: 'spread every service across these label keys (rack, pool)' },
    constraints: { type: 'boolean', default: false, description: `constrain ${CONSTRAINED_FRACTION * 100}% of services to pool=web` },
    strategy: { type: 'string', default: 'binpack', value: '<s>', description: 'binpack or spread' },
    seed: { type: 'string', default: '1', value: '<n>', description: 'seeds the workload and every plan' },
    'sample-every': { type: 'string', default: '10', value: '<n>', description: 'probe the decision latency of 1 in n requests' },
  },
  run: (flags, ctx) => runSchedulerBench(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): Settings {
  return {
    nodes: flags.int('nodes'),
    instances: flags.int('instances'),
    racks: flags.int('racks'),
    spread: flags.list('spread', SPREAD_KEYS),
    constraints: flags.boolean('constraints'),
    strategy: flags.choice('strategy', STRATEGIES),
    seed: flags.int('seed', 0, 2 ** 32 - 1),
    sampleEvery: flags.int('sample-every'),
  };
}

async function runSchedulerBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const rng = new SeededRandom(s.seed);
  const cluster = new BenchCluster(syntheticNodes({ nodes: s.nodes, racks: s.racks, webFraction: WEB_FRACTION }, rng));
  const services = syntheticServices(
    {
      instances: s.instances,
      minReplicas: MIN_REPLICAS,
      maxReplicas: MAX_REPLICAS,
      spread: s.spread,
      constrainedFraction: s.constraints ? CONSTRAINED_FRACTION : 0,
      hostPortFraction: HOST_PORT_FRACTION,
    },
    rng,
  );
  const requests = services.flatMap((svc) => svc.requests);
  const optsFor = (batch: number): ScheduleOptions => ({ strategy: s.strategy, seed: s.seed + batch });

  // Warm up on the empty cluster; these plans are thrown away.
  for (let i = 0; i < Math.min(WARM_UP_CALLS, requests.length); i++) {
    const req = requests[i];
    if (req) measureDecision(cluster, [req], optsFor(i));
    measureDecision(cluster, [], optsFor(i));
  }

  const run = await scheduleAll(cluster, services, s.sampleEvery, optsFor, ctx.signal);
  const check = verifyPlacements(cluster, requests, run.failures);
  const wallSeconds = (performance.now() - wallStart) / 1000;

  const placed = cluster.applied.length;
  const schedulingSeconds = run.clockMs / 1000;
  const figures = {
    nodes: s.nodes,
    instances: s.instances,
    placed,
    failed: run.failures.length,
    spread: s.spread.length ? s.spread.join(',') : null,
    constraints: s.constraints,
    strategy: s.strategy,
    seed: s.seed,
    racks: s.racks,
    services: services.length,
    placementsPerSecond: round(schedulingSeconds > 0 ? placed / schedulingSeconds : 0, 0),
    // The same run's rate over its first 20,000 placements (what a 20,000-instance run measures)
    // and the overall rate's ratio to it: 1 when a decision costs the same however full the cluster.
    first20kPerSecond: round(rateOverFirst(run.cumulative, FILL_REFERENCE), 0),
    fillRatio: round(schedulingSeconds > 0 && rateOverFirst(run.cumulative, FILL_REFERENCE) > 0 ? placed / schedulingSeconds / rateOverFirst(run.cumulative, FILL_REFERENCE) : 0, 2),
    decisionP50Us: round(percentile(run.decisionUs, 50), 1),
    decisionP99Us: round(percentile(run.decisionUs, 99), 1),
    decisionSamples: run.decisionUs.length,
    emptyCallP50Us: round(percentile(run.emptyCallUs, 50), 1),
    amortizedUsPerDecision: round((run.clockMs * 1000) / Math.max(1, requests.length), 1),
    schedulingSeconds: round(schedulingSeconds, 3),
    wallSeconds: round(wallSeconds, 3),
    spreadSkewMax: check.spreadSkewMax,
    sharedNodeReplicas: check.sharedNodeReplicas,
    violations: check.violations.length,
  };

  const workload = [
    `${s.instances} instances in ${services.length} services of ${MIN_REPLICAS}-${MAX_REPLICAS} replicas`,
    s.spread.length ? `spread ${s.spread.join(',')}` : 'no spread',
    s.constraints ? `pool=web on ${CONSTRAINED_FRACTION * 100}% of services` : 'no constraints',
    `${HOST_PORT_FRACTION * 100}% with a host port`,
    `strategy ${s.strategy}`,
    `seed ${s.seed}`,
  ].join(', ');
  const summary = [
    `cluster: ${s.nodes} nodes (32 cores, 128Gi, cpu overcommit 2, ${s.racks} racks, ${WEB_FRACTION * 100}% pool=web); ${workload}`,
    `throughput: ${fmtInt(figures.placementsPerSecond)} placements/s — ${placed} placed, ${run.failures.length} failed ` +
      `in ${figures.schedulingSeconds} s of schedule() calls, one call per service, plans applied between calls ` +
      `(${figures.amortizedUsPerDecision} µs per decision amortized over a call)`,
    `as the cluster fills: ${fmtInt(figures.first20kPerSecond)} placements/s over the first ${fmtInt(Math.min(FILL_REFERENCE, placed))}, ` +
      `overall ${fmtInt(figures.placementsPerSecond)}/s: ratio ${figures.fillRatio}`,
    `decision latency: p50 ${figures.decisionP50Us} µs, p99 ${figures.decisionP99Us} µs — ${run.decisionUs.length} ` +
      `one-request schedule() calls (1 in ${s.sampleEvery} requests, timed alone on the cluster as it stood before ` +
      `its service's call, result discarded; includes each call's O(nodes) setup, ` +
      `of which an empty schedule() call takes p50 ${figures.emptyCallP50Us} µs)`,
    (check.spreadSkewMax === null ? 'spread: none asked; ' : `spread: worst skew across ${s.spread.join(',')} values ${check.spreadSkewMax} replicas; `) +
      `${check.sharedNodeReplicas} replicas share a node with another replica of their service`,
  ];
  const firstFailure = run.failures[0];
  if (firstFailure) summary.push(`first failure: ${firstFailure.id}: ${firstFailure.reason}`);
  summary.push(
    check.violations.length === 0
      ? 'correctness: OK — no node over resourceLimit, every request decided once, constraints and host ports held'
      : `correctness: FAILED — ${check.violations.length} violation(s), listed below`,
    `wall time: ${figures.wallSeconds} s (workload generation, probes and checks included)`,
  );

  const buckets = Math.max(1, Math.min(40, Math.round(run.intervals.length / 5)));
  return {
    title: `scheduler: ${s.nodes} nodes, ${s.instances} instances${s.spread.length ? `, spread ${s.spread.join(',')}` : ''}${s.constraints ? ', constraints' : ''}`,
    summary,
    figures,
    violations: check.violations,
    charts: [
      {
        title: 'Cumulative placements',
        xLabel: 'scheduling time, ms (schedule() calls and applying their plans; probes excluded)',
        yLabel: 'placements',
        series: [{ name: 'placed', points: run.cumulative }],
      },
      {
        title: `Placements per second (${buckets} time buckets)`,
        xLabel: 'scheduling time, ms (schedule() calls and applying their plans; probes excluded)',
        yLabel: 'placements/s',
        series: [{ name: 'placements/s', points: ratePerBucket(run.intervals, buckets) }],
      },
    ],
  };
}

interface RunRecord {
  /** Time spent in schedule() calls and applying their plans, ms; probes excluded. */
  clockMs: number;
  intervals: Interval[];
  cumulative: [number, number][];
  failures: PlacementFailure[];
  decisionUs: number[];
  /** The same probes' fixed part: a schedule() call with no requests (permutation, node copy). */
  emptyCallUs: number[];
}

async function scheduleAll(
  cluster: BenchCluster,
  services: readonly SyntheticService[],
  sampleEvery: number,
  optsFor: (batch: number) => ScheduleOptions,
  signal: AbortSignal,
): Promise<RunRecord> {
  const rec: RunRecord = { clockMs: 0, intervals: [], cumulative: [[0, 0]], failures: [], decisionUs: [], emptyCallUs: [] };
  let seen = 0;
  let placed = 0;
  let lastYield = performance.now();
  for (const [batch, svc] of services.entries()) {
    for (const req of svc.requests) {
      if (seen++ % sampleEvery !== 0) continue;
      rec.decisionUs.push(measureDecision(cluster, [req], optsFor(batch)));
      rec.emptyCallUs.push(measureDecision(cluster, [], optsFor(batch)));
    }
    const start = performance.now();
    const plan = schedule(cluster.nodes, svc.requests, optsFor(batch), batch);
    cluster.apply(plan, svc.requests);
    const ms = performance.now() - start;
    rec.intervals.push({ startMs: rec.clockMs, endMs: rec.clockMs + ms, count: plan.placements.length });
    rec.clockMs += ms;
    placed += plan.placements.length;
    rec.cumulative.push([rec.clockMs, placed]);
    for (const f of plan.failures) rec.failures.push(f);
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      signal.throwIfAborted();
      lastYield = performance.now();
    }
  }
  return rec;
}

/**
 * Microseconds for a schedule() call with just `requests` (one request: a decision made alone, as
 * the scheduling controller makes when one instance is pending; none: the call's fixed cost).
 * The plan is discarded.
 */
function measureDecision(cluster: BenchCluster, requests: PlacementRequest[], opts: ScheduleOptions): number {
  const start = performance.now();
  schedule(cluster.nodes, requests, opts, 0);
  return (performance.now() - start) * 1000;
}

/** Placements per second over the first `count` placements (interpolated inside the call that crossed it). */
function rateOverFirst(cumulative: readonly [number, number][], count: number): number {
  let prev: [number, number] = [0, 0];
  for (const point of cumulative) {
    if (point[1] >= count && point[1] > prev[1]) {
      const ms = prev[0] + ((count - prev[1]) / (point[1] - prev[1])) * (point[0] - prev[0]);
      return ms > 0 ? (count / ms) * 1000 : 0;
    }
    prev = point;
  }
  const [ms, n] = cumulative.at(-1) ?? [0, 0];
  return ms > 0 ? (n / ms) * 1000 : 0;
}

function round(v: number, digits: number): number {
  if (!Number.isFinite(v)) return 0;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmtInt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}
