// Scenario `churn`: as e2e up to every instance Running, then rounds of redeploys. Each round
// deletes --churn-percent of the services and, at the same time, applies copies of them under new
// names (`svc-0003-r2`), so the cluster removes and places that share of the instances at once;
// the round ends when every new instance is Running and every old one is gone (instance watch),
// then the services' status is awaited. The same keys as e2e per round and in total.
import type { FlagReader } from './lib/flags.js';
import { describeWorkload, LIVE_FLAGS, readLiveSettings } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { liveCharts, probeFigures, processFigures, healthFigures, healthLine, rolloutFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY } from './lib/live-session.js';
import { renamed, workloadServices } from './lib/live-workload.js';
import type { ServiceManifest } from './lib/live-workload.js';
import { rollout, round, secondsSince } from './lib/rollout.js';
import type { RolloutRecord } from './lib/rollout.js';
import { verifyAllRunning } from './lib/verify-running.js';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface ChurnSettings extends LiveSettings {
  rounds: number;
  churnPercent: number;
}

export const churnBench: Scenario = {
  name: 'churn',
  description: 'e2e, then rounds that delete and re-create 10% of the instances: the e2e figures per round and in total',
  flags: {
    ...LIVE_FLAGS,
    rounds: { type: 'string', default: '5', value: '<n>', description: 'redeploy rounds after the first rollout' },
    'churn-percent': { type: 'string', default: '10', value: '<p>', description: 'percent of the services (so of the instances) replaced per round' },
  },
  run: (flags, ctx) => runChurn(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): ChurnSettings {
  return { ...readLiveSettings(flags), rounds: flags.int('rounds', 1, 1000), churnPercent: flags.int('churn-percent', 1, 100) };
}

async function runChurn(s: ChurnSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const session = await LiveSession.start({ settings: s, groups: [{ prefix: 'hollow', nodes: s.nodes, seed: s.seed }], nodeGracePeriod: '15s' }, ctx.signal);
  return session.run(async () => {
    const current = workloadServices({ instances: s.instances, services: s.services, spread: s.spread, constraints: s.constraints, prefix: 'svc' });
    const base = current.map((svc) => svc.metadata.name);
    session.startProbe(s.probeRate, s.seed);
    const opts = { concurrency: s.applyConcurrency, timeoutMs: s.timeoutMs, signal: ctx.signal };
    const deploy = await rollout(session, { ...opts, apply: current });
    if (deploy.statusReadyMs === undefined) throw new Error(`the workload never became ready within --timeout ${s.timeoutMs / 1000} s, so no round ran`);

    const perRound = Math.max(1, Math.round((s.services * s.churnPercent) / 100));
    const rounds: { rec: RolloutRecord; figures: Record<string, Figure> }[] = [];
    const violations: string[] = [];
    for (let r = 1; r <= s.rounds; r++) {
      const picks = Array.from({ length: perRound }, (_, k) => ((r - 1) * perRound + k) % current.length);
      const remove = picks.map((i) => current[i]?.metadata.name ?? '');
      const apply: ServiceManifest[] = picks.map((i) => renamed(current[i] as ServiceManifest, `${base[i] ?? 'svc'}-r${r}`));
      picks.forEach((i, k) => (current[i] = apply[k] as ServiceManifest));
      const rec = await rollout(session, { ...opts, apply, remove });
      rounds.push({ rec, figures: rolloutFigures(session, rec) });
      if (rec.runningMs === undefined || rec.statusReadyMs === undefined) {
        violations.push(`round ${r}: the ${rec.replicas} new instances were not all Running (and the old ones gone, and status ready) within --timeout ${s.timeoutMs / 1000} s`);
        break;
      }
    }
    const check = await verifyAllRunning(session, current);
    violations.push(...check.violations);

    const first = rounds[0]?.rec.startMs ?? session.now();
    const last = rounds[rounds.length - 1]?.rec;
    const end = last?.statusReadyMs ?? last?.runningMs ?? session.now();
    const column = (key: string): (number | null)[] => rounds.map((x) => (typeof x.figures[key] === 'number' ? x.figures[key] : null));
    const sum = (key: string): number | null => {
      const vs = column(key);
      return vs.some((v) => v === null) ? null : round(vs.reduce<number>((a, v) => a + (v ?? 0), 0), 3);
    };
    const churned = rounds.reduce((n, x) => n + x.rec.replicas, 0);
    const boundTotal = sum('allBoundSeconds');
    const figures: Record<string, Figure> = {
      nodes: s.nodes,
      instances: s.instances,
      services: s.services,
      rounds: rounds.length,
      churnedInstances: churned,
      deployAllRunningSeconds: secondsSince(deploy, deploy.runningMs),
      allRunningSeconds: sum('allRunningSeconds'),
      allBoundSeconds: boundTotal,
      statusReadySeconds: sum('statusReadySeconds'),
      placementsPerSecond: boundTotal ? round(churned / boundTotal, 0) : null,
      ...probeFigures(session, first, end),
      serverCpuSeconds: sum('serverCpuSeconds'),
      ...processFigures(session),
      ...(await healthFigures(session)),
      roundAllRunningSeconds: column('allRunningSeconds'),
      roundAllBoundSeconds: column('allBoundSeconds'),
      roundPlacementsPerSecond: column('placementsPerSecond'),
      roundApiGetP99Ms: column('apiGetP99Ms'),
      roundApiApplyP99Ms: column('apiApplyP99Ms'),
      roundServerCpuSeconds: column('serverCpuSeconds'),
      violations: violations.length,
    };
    const v = (x: Figure | undefined): string => (x === null || x === undefined ? 'never' : String(x));
    return {
      title: `churn: ${describeWorkload(s)}, ${rounds.length} rounds of ${perRound} services (${s.churnPercent}%)`,
      summary: [
        `cluster: 1 gantry server, 1 gantry sim of ${s.nodes} hollow nodes (${NODE_CAPACITY}, start ${s.startLatency}); first rollout all Running in ${v(figures.deployAllRunningSeconds)} s`,
        `each round: delete ${perRound} services and apply renamed copies at once (${s.applyConcurrency} requests in flight); the clock runs until every new instance ` +
          'is Running and every old one deleted (instance watch), status until the services list says all ready',
        ...rounds.map(
          ({ rec, figures: f }, i) =>
            `round ${i + 1}: ${rec.replicas} instances replaced, all Running ${v(f.allRunningSeconds)} s, bound ${v(f.allBoundSeconds)} s (${v(f.placementsPerSecond)} placements/s), ` +
            `status ${v(f.statusReadySeconds)} s; API p99 GET ${v(f.apiGetP99Ms)} ms, apply ${v(f.apiApplyP99Ms)} ms; server CPU ${v(f.serverCpuSeconds)} s`,
        ),
        `total: ${churned} instances replaced, ${v(figures.allRunningSeconds)} s until all Running summed over rounds, ${v(figures.placementsPerSecond)} placements/s; ` +
          `API over all rounds: GET p50 ${v(figures.apiGetP50Ms)} ms, p99 ${v(figures.apiGetP99Ms)} ms; apply/scale p50 ${v(figures.apiApplyP50Ms)} ms, p99 ${v(figures.apiApplyP99Ms)} ms`,
        `server process: peak RSS ${v(figures.serverPeakRssMiB)} MiB, CPU ${v(figures.serverCpuSeconds)} s in the rounds, ${v(figures.serverCpuTotalSeconds)} s since it started; ` +
          `host ${v(figures.hostCpus)} CPUs, load ${v(figures.hostLoadAtStart)} -> ${v(figures.hostLoadAtEnd)}`,
        check.violations.length === 0
          ? `verified: one full list of ${check.total} instances — all Running, none left of deleted services`
          : `verified: FAILED on the full list of ${check.total} instances, see below`,
        healthLine(figures),
      ],
      figures,
      violations,
      charts: liveCharts(session, first, 'the first round'),
    };
  });
}
