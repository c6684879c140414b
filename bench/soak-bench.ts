// Scenario `soak`: as e2e up to every instance Running, then --minutes of continuous churn, to see
// whether anything grows that should not. Every --cycle seconds:
// - one service is scaled up by half, and the one scaled up the cycle before back down;
// - one service gets a new template (an env var with the cycle number): a rolling update;
// - every --flap-every cycles the `flappy` sim process (--flap-percent of the nodes) is frozen
//   (SIGSTOP: its nodes stop heartbeating, are marked not ready, their instances replaced), and
//   thawed (SIGCONT) two cycles later: the hosts come back with their old containers;
// - --cronjobs CronJobs fire every minute all along (each run `sleep 5`: it ends 5 s later).
// The steady phase starts after --warmup cycles (the event store fills, compaction starts: the
// server runs with --event-ttl 5m by default, so events reach their steady count within the six
// warm-up minutes; with the server's own 1 h they would grow for an hour of churn). RSS
// (mean over a minute), the state file and the events stored are read at its start and end, and
// each must grow less than 10%. Stalls are the server's loop windows over 100 ms in the phase.
// Beside RSS it prints the JS heap's floor (the least heap in use in a span, from the server's
// loop lines): per cycle, and over the phase's first and last two minutes. A floor that climbs
// cycle after cycle is memory kept (a leak); RSS alone also counts garbage and freed pages.
import type { CronJob, Manifest } from '../src/core/index.js';
import type { FlagReader } from './lib/flags.js';
import { serverHealthFigures, serverHeapFloors, serverMemoryMeans, stateBytes } from './lib/health-figures.js';
import { describeWorkload, duration, LIVE_FLAGS, readLiveSettings } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { processFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY } from './lib/live-session.js';
import { workloadServices, type ServiceManifest } from './lib/live-workload.js';
import { rollout, round } from './lib/rollout.js';
import { describeSplit, residentSplit, type ResidentSplit } from './lib/smaps.js';
import { fetchMetrics, sumOf } from './lib/server-metrics.js';
import { sleep } from './lib/sleep.js';
import type { LineChartSpec } from './lib/svg-line-chart.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const STEADY = 'hollow';
const FLAPPY = 'flappy';
const GROWTH_LIMIT = 0.1;
const MEAN_WINDOW_MS = 60_000;
/** The span whose least heap in use is the floor at the steady phase's start and end. */
const HEAP_FLOOR_WINDOW_MS = 120_000;

interface SoakSettings extends LiveSettings {
  minutes: number;
  cycleMs: number;
  warmupCycles: number;
  flapPercent: number;
  flapEvery: number;
  cronJobs: number;
  eventTtl: string;
}

export const soakBench: Scenario = {
  name: 'soak',
  description: 'e2e, then minutes of churn (scaling, rolling updates, nodes frozen and back, cron): RSS, state file and events must stay flat',
  flags: {
    ...LIVE_FLAGS,
    minutes: { type: 'string', default: '20', value: '<n>', description: 'length of the steady phase' },
    cycle: { type: 'string', default: '60', value: '<seconds>', description: 'one scale, one rolling update (and a freeze or thaw when due) per cycle' },
    warmup: { type: 'string', default: '6', value: '<cycles>', description: 'churn cycles before the steady phase is measured (at least one --event-ttl: until then events only grow)' },
    'flap-percent': { type: 'string', default: '1', value: '<p>', description: 'percent of the nodes in the sim process that is frozen and thawed (at least one node)' },
    'flap-every': { type: 'string', default: '5', value: '<cycles>', description: 'freeze the flappy nodes every this many cycles; thawed two cycles later' },
    cronjobs: { type: 'string', default: '10', value: '<n>', description: 'CronJobs @every 1m' },
    'event-ttl': { type: 'string', default: '5m', value: '<duration>', description: "the server's --event-ttl (its default is 1h): events reach their steady count one TTL into the churn" },
  },
  run: (flags: FlagReader, ctx) =>
    runSoak(
      {
        ...readLiveSettings(flags),
        minutes: flags.int('minutes', 1, 24 * 60),
        cycleMs: flags.int('cycle', 10, 3600) * 1000,
        warmupCycles: flags.int('warmup', 0, 1000),
        flapPercent: flags.int('flap-percent', 1, 50),
        flapEvery: flags.int('flap-every', 3, 1000),
        cronJobs: flags.int('cronjobs', 0, 10_000),
        eventTtl: duration(flags, 'event-ttl'),
      },
      ctx,
    ),
};

function cronJobManifest(name: string): Manifest<CronJob> {
  return {
    apiVersion: 'gantry/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '@every 1m',
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 1,
      // A hollow container with `sleep 5` exits 0 after 5 s (drivers/fake): each run finishes, as
      // a real batch job would. Until the twentieth session it ran until stopped, so with
      // concurrencyPolicy Allow every minute added ten Jobs that never ended (100,054 Running at
      // the steady phase's start grew to 100,297; nominal 100,050): a workload that only grew.
      jobTemplate: { containers: [{ name: 'main', image: 'bench/batch:1', command: ['sleep', '5'], resources: { cpu: '10m', memory: '8Mi' } }] },
    },
  };
}

/** A new template for `svc`: what a deploy of a new build changes. */
function updated(svc: ServiceManifest, cycle: number): ServiceManifest {
  const [main, ...rest] = svc.spec.containers;
  return { ...svc, spec: { ...svc.spec, containers: [{ ...main!, env: { ...main!.env, SOAK_CYCLE: String(cycle) } }, ...rest] } };
}

interface Reading {
  atMs: number;
  /** Epoch ms of the reading and of the cycle's start (the heap floor's span). */
  epochMs: number;
  cycleStartEpochMs: number;
  rssMiB: number;
  stateMiB: number;
  events: number;
  running: number;
}

function growth(from: number, to: number): number {
  return from > 0 ? (to - from) / from : 0;
}

function meanRss(samples: readonly { atMs: number; rssMiB: number }[], fromMs: number, toMs: number): number {
  const xs = samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs).map((s) => s.rssMiB);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

async function runSoak(s: SoakSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const flappy = Math.max(1, Math.round((s.nodes * s.flapPercent) / 100));
  if (flappy >= s.nodes) throw new Error(`--flap-percent ${s.flapPercent} of ${s.nodes} nodes leaves none steady: use more nodes`);
  const session = await LiveSession.start(
    { settings: s, groups: [{ prefix: STEADY, nodes: s.nodes - flappy, seed: s.seed }, { prefix: FLAPPY, nodes: flappy, seed: s.seed + 1 }], nodeGracePeriod: '15s', serverArgs: ['--event-ttl', s.eventTtl] },
    ctx.signal,
  );
  return session.run(async () => {
    const { cluster, tracker } = session;
    const client = cluster.client;
    const services = workloadServices({ instances: s.instances, services: s.services, spread: s.spread, constraints: s.constraints, prefix: 'svc' });
    session.startProbe(s.probeRate, s.seed);
    const deploy = await rollout(session, { apply: services, concurrency: s.applyConcurrency, timeoutMs: s.timeoutMs, signal: ctx.signal });
    if (deploy.runningMs === undefined) throw new Error(`the workload never ran within --timeout ${s.timeoutMs / 1000} s, so the soak did not start`);
    for (let i = 0; i < s.cronJobs; i++) await client.apply(cronJobManifest(`soak-cron-${String(i).padStart(3, '0')}`));

    const flapSim = cluster.sims.get(FLAPPY)!;
    const readings: Reading[] = [];
    const read = async (cycleStartEpochMs: number): Promise<Reading> => {
      const metrics = await fetchMetrics(cluster.url, cluster.adminToken, cluster.ca, 60_000).catch(() => []);
      const r = {
        atMs: session.now(),
        epochMs: Date.now(),
        cycleStartEpochMs,
        rssMiB: session.serverSampler.samples.at(-1)?.rssMiB ?? Number.NaN,
        stateMiB: (await stateBytes(cluster.dataDir)) / 2 ** 20,
        events: sumOf(metrics, 'gantry_events'),
        running: tracker.countWhere((i) => i.phase === 'Running'),
      };
      readings.push(r);
      return r;
    };

    const totalCycles = s.warmupCycles + Math.ceil((s.minutes * 60_000) / s.cycleMs);
    let scaledUp: ServiceManifest | undefined;
    let frozenAt: number | undefined;
    let freezes = 0;
    let steadyStartMs: number | undefined;
    let steadyStartEpoch = 0;
    let splitStart: ResidentSplit | undefined;
    const failures: string[] = [];
    const churnStart = session.now();
    for (let cycle = 0; cycle < totalCycles; cycle++) {
      ctx.signal.throwIfAborted();
      if (cycle === s.warmupCycles) {
        steadyStartMs = session.now();
        steadyStartEpoch = Date.now();
        splitStart = await residentSplit(cluster.server.pid);
        session.progress(`steady phase starts; server resident memory: ${describeSplit(splitStart)}`);
      }
      const cycleStart = session.now();
      const cycleStartEpoch = Date.now();
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (e) {
          if (failures.length < 10) failures.push(`cycle ${cycle} ${what}: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      // Scale one up by half; the previous one back.
      if (scaledUp) {
        const back = scaledUp;
        await step(`scale ${back.metadata.name} back`, () => client.scale('default', back.metadata.name, back.spec.replicas ?? 1));
      }
      const up = services[(cycle * 7) % services.length]!;
      await step(`scale ${up.metadata.name} up`, () => client.scale('default', up.metadata.name, Math.ceil((up.spec.replicas ?? 1) * 1.5)));
      scaledUp = up;
      // A rolling update of another.
      const roll = services[(cycle * 7 + 3) % services.length]!;
      await step(`update ${roll.metadata.name}`, () => client.apply(updated(roll, cycle)));
      // Freeze and thaw the flappy nodes.
      if (frozenAt === undefined && cycle % s.flapEvery === s.flapEvery - 1) {
        flapSim.freeze(true);
        frozenAt = cycle;
        freezes++;
        session.progress(`cycle ${cycle}: froze the ${flappy} flappy nodes (SIGSTOP)`);
      } else if (frozenAt !== undefined && cycle - frozenAt >= 2) {
        flapSim.freeze(false);
        frozenAt = undefined;
        session.progress(`cycle ${cycle}: thawed the flappy nodes (SIGCONT)`);
      }
      const r = await read(cycleStartEpoch);
      // The previous cycle's floor: its loop lines are all in the log by now.
      const prev = readings.at(-2);
      const prevFloor = prev ? (await serverHeapFloors(cluster.dataDir, [{ fromEpochMs: prev.cycleStartEpochMs, toEpochMs: cycleStartEpoch }]))[0]! : Number.NaN;
      session.progress(
        `cycle ${cycle + 1}/${totalCycles}: server RSS ${r.rssMiB.toFixed(0)} MiB${Number.isNaN(prevFloor) ? '' : ` (heap floor of cycle ${cycle}: ${prevFloor} MiB)`}, state file ${r.stateMiB.toFixed(1)} MiB, ${r.events} events, ${r.running} Running`,
      );
      await sleep(Math.max(0, s.cycleMs - (session.now() - cycleStart)), ctx.signal);
    }
    if (frozenAt !== undefined) flapSim.freeze(false);
    const endMs = session.now();
    const endEpoch = Date.now();
    const end = await read(Date.now());
    const splitEnd = await residentSplit(cluster.server.pid);
    const startMs = steadyStartMs ?? churnStart;
    const start = readings.find((r) => r.atMs >= startMs) ?? readings[0]!;
    const samples = session.serverSampler.samples;
    const rssStart = meanRss(samples, startMs, startMs + MEAN_WINDOW_MS);
    const rssEnd = meanRss(samples, endMs - MEAN_WINDOW_MS, endMs);
    const startEpoch = steadyStartEpoch || Date.now() - (endMs - startMs);
    const [heapStart, heapEnd] = await serverHeapFloors(cluster.dataDir, [
      { fromEpochMs: startEpoch, toEpochMs: startEpoch + HEAP_FLOOR_WINDOW_MS },
      { fromEpochMs: endEpoch - HEAP_FLOOR_WINDOW_MS, toEpochMs: endEpoch },
    ]);
    // Over the same minute as the RSS means, so the two add up.
    const [memStart, memEnd] = await serverMemoryMeans(cluster.dataDir, [
      { fromEpochMs: startEpoch, toEpochMs: startEpoch + MEAN_WINDOW_MS },
      { fromEpochMs: endEpoch - MEAN_WINDOW_MS, toEpochMs: endEpoch },
    ]);
    // A cycle's span runs to the next cycle's start (the last reading's, at the end, to itself).
    const cycleFloors = await serverHeapFloors(cluster.dataDir, readings.map((r, i) => ({ fromEpochMs: r.cycleStartEpochMs, toEpochMs: readings[i + 1]?.cycleStartEpochMs ?? r.epochMs })));
    const loop = await serverHealthFigures(cluster.dataDir, { fromEpochMs: steadyStartEpoch || Date.now() - (endMs - startMs), toEpochMs: endEpoch });
    const violations = [...failures];
    const check = (what: string, g: number): void => {
      if (g >= GROWTH_LIMIT) violations.push(`${what} grew ${(g * 100).toFixed(1)}% over the steady phase (limit ${GROWTH_LIMIT * 100}%)`);
    };
    const rssGrowth = growth(rssStart, rssEnd);
    const stateGrowth = growth(start.stateMiB, end.stateMiB);
    const eventsGrowth = growth(start.events, end.events);
    check('server RSS (mean over a minute)', rssGrowth);
    check('the state file', stateGrowth);
    check('events stored', eventsGrowth);
    const pct = (g: number): number => round(g * 100, 1);
    const proc = processFigures(session);
    const figures = {
      nodes: s.nodes,
      instances: s.instances,
      services: s.services,
      minutes: s.minutes,
      cycles: totalCycles,
      freezes,
      flappyNodes: flappy,
      cronJobs: s.cronJobs,
      steadyRssStartMiB: round(rssStart, 0),
      steadyRssEndMiB: round(rssEnd, 0),
      rssGrowthPercent: pct(rssGrowth),
      steadyHeapFloorStartMiB: Number.isNaN(heapStart!) ? null : heapStart!,
      steadyHeapFloorEndMiB: Number.isNaN(heapEnd!) ? null : heapEnd!,
      heapFloorGrowthPercent: Number.isNaN(heapStart!) || Number.isNaN(heapEnd!) ? null : pct(growth(heapStart!, heapEnd!)),
      steadyHeapTotalStartMiB: Number.isNaN(memStart!.heapTotal) ? null : round(memStart!.heapTotal, 0),
      steadyHeapTotalEndMiB: Number.isNaN(memEnd!.heapTotal) ? null : round(memEnd!.heapTotal, 0),
      steadyOutsideHeapStartMiB: Number.isNaN(memStart!.outside) ? null : round(memStart!.outside, 0),
      steadyOutsideHeapEndMiB: Number.isNaN(memEnd!.outside) ? null : round(memEnd!.outside, 0),
      steadyExternalStartMiB: Number.isNaN(memStart!.external) ? null : round(memStart!.external, 0),
      steadyExternalEndMiB: Number.isNaN(memEnd!.external) ? null : round(memEnd!.external, 0),
      steadyHeapPhysicalStartMiB: Number.isNaN(memStart!.heapPhysical) ? null : round(memStart!.heapPhysical, 0),
      steadyHeapPhysicalEndMiB: Number.isNaN(memEnd!.heapPhysical) ? null : round(memEnd!.heapPhysical, 0),
      steadyV8MallocStartMiB: Number.isNaN(memStart!.v8Malloc) ? null : round(memStart!.v8Malloc, 0),
      steadyV8MallocEndMiB: Number.isNaN(memEnd!.v8Malloc) ? null : round(memEnd!.v8Malloc, 0),
      steadyResidentSplitStart: splitStart ? { ...splitStart } : null,
      steadyResidentSplitEnd: splitEnd ? { ...splitEnd } : null,
      stateStartMiB: round(start.stateMiB, 1),
      stateEndMiB: round(end.stateMiB, 1),
      stateGrowthPercent: pct(stateGrowth),
      eventsStart: start.events,
      eventsEnd: end.events,
      eventsGrowthPercent: pct(eventsGrowth),
      ...loop,
      ...proc,
      violations: violations.length,
    };
    const chart = (title: string, unit: string, pick: (r: Reading, i: number) => number): LineChartSpec => ({
      title,
      xLabel: 'seconds since the churn started',
      yLabel: unit,
      series: [{ name: title, points: readings.map((r, i) => [(r.atMs - churnStart) / 1000, pick(r, i)] as [number, number]).filter(([, y]) => !Number.isNaN(y)) }],
    });
    return {
      title: `soak: ${describeWorkload(s)}, ${s.minutes} min of churn every ${s.cycleMs / 1000} s`,
      summary: [
        `cluster: 1 gantry server (--event-ttl ${s.eventTtl}), sim processes of ${s.nodes - flappy} + ${flappy} (flappy) hollow nodes (${NODE_CAPACITY}); ${s.cronJobs} CronJobs @every 1m`,
        `churn: ${totalCycles} cycles (${s.warmupCycles} warm-up) of one scale up by half and one back, one rolling update; the flappy nodes frozen ${freezes} times for two cycles`,
        `server RSS (mean over the first and last minute of the steady phase): ${figures.steadyRssStartMiB} -> ${figures.steadyRssEndMiB} MiB (${figures.rssGrowthPercent}%, limit < 10%)`,
        `server JS heap floor (least in use over the first and last two minutes of the steady phase): ${String(figures.steadyHeapFloorStartMiB)} -> ${String(figures.steadyHeapFloorEndMiB)} MiB (${String(figures.heapFloorGrowthPercent)}%; not a limit: it tells kept memory from garbage)`,
        `server resident memory (means over the first and last minute, as RSS): JS heap held ${String(figures.steadyHeapTotalStartMiB)} -> ${String(figures.steadyHeapTotalEndMiB)} MiB, outside the JS heap ${String(figures.steadyOutsideHeapStartMiB)} -> ${String(figures.steadyOutsideHeapEndMiB)} MiB (of which V8's external memory, Buffers: ${String(figures.steadyExternalStartMiB)} -> ${String(figures.steadyExternalEndMiB)} MiB); the heap's resident pages ${String(figures.steadyHeapPhysicalStartMiB)} -> ${String(figures.steadyHeapPhysicalEndMiB)} MiB, V8's mallocs ${String(figures.steadyV8MallocStartMiB)} -> ${String(figures.steadyV8MallocEndMiB)} MiB`,
        `server resident memory by mapping (/proc/<pid>/smaps), at the steady phase's start: ${describeSplit(splitStart)}; at its end: ${describeSplit(splitEnd)}`,
        `state file: ${figures.stateStartMiB} -> ${figures.stateEndMiB} MiB (${figures.stateGrowthPercent}%); events stored: ${start.events} -> ${end.events} (${figures.eventsGrowthPercent}%)`,
        `stalls in the steady phase: ${String(loop.serverLoopStallWindows)} of ${String(loop.serverLoopWindows)} loop windows over 100 ms, max delay ${String(loop.serverLoopMaxMs)} ms`,
        `server peak RSS ${String(proc.serverPeakRssMiB)} MiB over the run; load ${String(proc.hostLoadAtStart)} -> ${String(proc.hostLoadAtEnd)}`,
      ],
      figures,
      violations,
      charts: [chart('server RSS', 'MiB', (r) => r.rssMiB), chart('server JS heap floor (per cycle)', 'MiB', (_r, i) => cycleFloors[i] ?? Number.NaN), chart('state file', 'MiB', (r) => r.stateMiB), chart('events stored', 'events', (r) => r.events)],
    };
  });
}
