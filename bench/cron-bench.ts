// Scenario `cron`: a real server and hollow nodes (as e2e), then --cronjobs CronJobs `@every
// --every`, applied --apply-concurrency at a time. For --duration it watches Jobs and measures
// each firing's lateness: the Job's creation time (server clock) minus its scheduled time (its
// `gantry.io/scheduled-time` annotation). Checks: no scheduled time of a CronJob fired twice, and
// every CronJob fired about duration/every times.
import type { CronJob, Job, Manifest } from '../src/core/index.js';
import { parseDuration } from '../src/core/index.js';
import type { FlagReader } from './lib/flags.js';
import { startLiveCluster } from './lib/live-cluster.js';
import { percentile } from './lib/stats.js';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface CronSettings {
  nodes: number;
  cronJobs: number;
  everyMs: number;
  every: string;
  durationMs: number;
  applyConcurrency: number;
  timeoutMs: number;
  keep: boolean;
}

const TARGET_P99_MS = 500;

export const cronBench: Scenario = {
  name: 'cron',
  description: 'CronJobs @every N on hollow nodes: firing lateness (Job created minus scheduled) p50/p99',
  flags: {
    nodes: { type: 'string', default: '20', value: '<n>', description: 'hollow nodes (gantry sim), 32 cores and 128Gi each' },
    cronjobs: { type: 'string', default: '1000', value: '<n>', description: 'CronJobs to apply' },
    every: { type: 'string', default: '10s', value: '<duration>', description: 'their schedule: @every <duration>' },
    duration: { type: 'string', default: '60s', value: '<duration>', description: 'how long to measure after every CronJob is applied' },
    'apply-concurrency': { type: 'string', default: '8', value: '<n>', description: 'CronJobs applied at once' },
    timeout: { type: 'string', default: '300', value: '<seconds>', description: 'give up waiting for the cluster after this long' },
    keep: { type: 'boolean', default: false, description: 'keep the temp data dir (server and sim logs, state.db)' },
  },
  run: (flags, ctx) => runCron(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): CronSettings {
  const every = flags.string('every') ?? '10s';
  const everyMs = parseDuration(every);
  const durationMs = parseDuration(flags.string('duration') ?? '60s');
  if (everyMs === undefined || everyMs < 1000) throw new Error('--every must be a duration of at least 1s, like 10s');
  if (durationMs === undefined || durationMs < everyMs) throw new Error('--duration must be a duration of at least --every');
  return {
    nodes: flags.int('nodes'),
    cronJobs: flags.int('cronjobs', 1, 100_000),
    every,
    everyMs,
    durationMs,
    applyConcurrency: flags.int('apply-concurrency', 1, 256),
    timeoutMs: flags.int('timeout') * 1000,
    keep: flags.boolean('keep'),
  };
}

function cronJobManifest(name: string, every: string): Manifest<CronJob> {
  return {
    apiVersion: 'gantry/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: `@every ${every}`,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 1,
      // `sleep 1`: a hollow node ends the run after a second (drivers/fake), so Jobs finish rather than pile up.
      jobTemplate: { containers: [{ name: 'main', image: 'bench/batch:1', command: ['sleep', '1'], resources: { cpu: '10m', memory: '8Mi' } }] },
    },
  };
}

async function runCron(s: CronSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const t0 = performance.now();
  const progress = (line: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  const cluster = await startLiveCluster(
    { groups: [{ prefix: 'hollow', nodes: s.nodes, seed: 1 }], racks: 10, capacity: 'cpu=32,memory=128Gi', startLatency: '50ms', nodeGracePeriod: '15s', timeoutMs: s.timeoutMs, keep: s.keep, progress },
    ctx.signal,
  );
  const watchAbort = new AbortController();
  const onAbort = () => watchAbort.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const client = cluster.client;
    // Every Job the cron controller makes, as the watch delivers it: lateness from server clocks.
    const lateness: { atMs: number; lateMs: number }[] = [];
    const seen = new Map<string, Set<string>>();
    let duplicates = 0;
    let measureFrom = Infinity;
    const watchDone = (async () => {
      const { revision } = await client.list('Job', { namespace: 'default' });
      try {
        for await (const ev of client.watch({ kind: 'Job', namespace: 'default', fromRevision: revision }, watchAbort.signal)) {
          if (ev.type !== 'ADDED' || ev.object?.kind !== 'Job') continue;
          const j: Job = ev.object;
          const cj = j.metadata.labels?.['gantry.io/cronjob'];
          const at = j.metadata.annotations?.['gantry.io/scheduled-time'];
          if (!cj || !at) continue;
          let times = seen.get(cj);
          if (!times) seen.set(cj, (times = new Set()));
          if (times.has(at)) duplicates++;
          times.add(at);
          const scheduledMs = Date.parse(at);
          if (scheduledMs < measureFrom) continue;
          lateness.push({ atMs: scheduledMs - measureFrom, lateMs: Date.parse(j.metadata.createdAt) - scheduledMs });
        }
      } catch (e) {
        if (!watchAbort.signal.aborted) throw e;
      }
    })();

    const applyStart = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < s.cronJobs && !ctx.signal.aborted) {
        const k = next++;
        await client.apply(cronJobManifest(`cron-${String(k).padStart(5, '0')}`, s.every));
      }
    };
    await Promise.all(Array.from({ length: s.applyConcurrency }, worker));
    const applySeconds = (performance.now() - applyStart) / 1000;
    progress(`${s.cronJobs} CronJobs applied in ${applySeconds.toFixed(1)} s; measuring for ${s.durationMs / 1000} s`);
    // Measure only times scheduled after every CronJob exists (the apply burst is not steady state).
    measureFrom = Date.now();
    for (let waited = 0; waited < s.durationMs && !ctx.signal.aborted; waited += 5000) {
      await new Promise((r) => setTimeout(r, Math.min(5000, s.durationMs - waited)));
      progress(`${lateness.length} firings measured, p99 late ${percentile(lateness.map((l) => l.lateMs), 99)} ms`);
    }
    // Times scheduled at the end may still be firing: give them a moment, then stop counting.
    await new Promise((r) => setTimeout(r, 2000));
    watchAbort.abort();
    await watchDone;
    if (ctx.signal.aborted) throw ctx.signal.reason;

    const late = lateness.map((l) => l.lateMs);
    const cronJobs = (await client.list('CronJob', { namespace: 'default' })).items;
    const missed = cronJobs.reduce((n, c) => n + (c.status?.missed ?? 0), 0);
    const expected = Math.floor(s.durationMs / s.everyMs) * s.cronJobs;
    const figures: Record<string, Figure> = {
      nodes: s.nodes,
      cronJobs: s.cronJobs,
      everyMs: s.everyMs,
      durationSeconds: s.durationMs / 1000,
      applySeconds: Math.round(applySeconds * 10) / 10,
      firings: late.length,
      expectedFiringsAtLeast: expected,
      duplicates,
      missed,
      lateMsP50: percentile(late, 50),
      lateMsP90: percentile(late, 90),
      lateMsP99: percentile(late, 99),
      lateMsMax: late.length > 0 ? Math.max(...late) : null,
    };
    const violations: string[] = [];
    if (duplicates > 0) violations.push(`${duplicates} scheduled times fired twice`);
    if (late.length < expected) violations.push(`only ${late.length} firings measured; at least ${expected} were due`);
    const p99 = percentile(late, 99);
    if (!(p99 <= TARGET_P99_MS)) violations.push(`lateMsP99 ${p99} is over the target ${TARGET_P99_MS} ms`);
    const buckets = new Map<number, number[]>();
    for (const l of lateness) {
      const b = Math.floor(l.atMs / 1000);
      buckets.set(b, [...(buckets.get(b) ?? []), l.lateMs]);
    }
    const series = (p: number) => [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, v]) => [b, percentile(v, p)] as const);
    return {
      title: `cron: ${s.cronJobs} CronJobs @every ${s.every} on ${s.nodes} hollow nodes for ${s.durationMs / 1000} s`,
      summary: [
        `firings: ${late.length} (at least ${expected} due), duplicates ${duplicates}, missed ${missed}`,
        `lateness (Job created - scheduled): p50 ${percentile(late, 50)} ms, p90 ${percentile(late, 90)} ms, p99 ${p99} ms, max ${String(figures.lateMsMax)} ms (target p99 <= ${TARGET_P99_MS} ms)`,
        `apply of ${s.cronJobs} CronJobs: ${applySeconds.toFixed(1)} s`,
      ],
      figures,
      charts: [{ title: 'Firing lateness per second of schedule', xLabel: 'scheduled at (s since measuring began)', yLabel: 'late (ms)', series: [{ name: 'p50', points: series(50) }, { name: 'p99', points: series(99) }] }],
      violations,
    };
  } finally {
    watchAbort.abort();
    ctx.signal.removeEventListener('abort', onAbort);
    await cluster.close();
  }
}
