// Scenario `e2e`: the whole system on one machine. A real `gantry server` process and a separate
// `gantry sim` process of N hollow nodes; once every node is ready the clock starts, M instances
// (in S services) are applied concurrently, and it stops when the API has reported every one of
// them Running. An open-loop API probe and /proc samplers run alongside. See README.md.
import type { FlagReader } from './lib/flags.js';
import { describeWorkload, LIVE_FLAGS, readLiveSettings } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { liveCharts, processFigures, healthFigures, rolloutFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY } from './lib/live-session.js';
import { workloadServices } from './lib/live-workload.js';
import { rollout } from './lib/rollout.js';
import { liveSummary } from './lib/live-summary.js';
import { verifyAllRunning } from './lib/verify-running.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

export const e2eBench: Scenario = {
  name: 'e2e',
  description: 'server + hollow nodes as processes: apply M instances, time until all are Running',
  flags: LIVE_FLAGS,
  run: (flags: FlagReader, ctx) => runE2e(readLiveSettings(flags), ctx),
};

async function runE2e(s: LiveSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const session = await LiveSession.start({ settings: s, groups: [{ prefix: 'hollow', nodes: s.nodes, seed: s.seed }], nodeGracePeriod: '15s' }, ctx.signal);
  return session.run(async () => {
    const services = workloadServices({ instances: s.instances, services: s.services, spread: s.spread, constraints: s.constraints, prefix: 'svc' });
    session.startProbe(s.probeRate, s.seed);
    const rec = await rollout(session, { apply: services, concurrency: s.applyConcurrency, timeoutMs: s.timeoutMs, signal: ctx.signal });
    const serverView = await session.serverLatencyFigures();
    const violations: string[] = [];
    if (rec.runningMs === undefined) {
      const c = session.tracker.countsOf(services.map((x) => x.metadata.name));
      violations.push(`not every instance was Running within --timeout ${s.timeoutMs / 1000} s: ${c.running} Running, ${c.bound} bound of ${s.instances}`);
    } else if (rec.statusReadyMs === undefined) {
      violations.push(`every instance was Running but the services' status did not say so within --timeout ${s.timeoutMs / 1000} s`);
    }
    const check = await verifyAllRunning(session, services);
    violations.push(...check.violations);
    const figures = {
      nodes: s.nodes,
      instances: s.instances,
      services: s.services,
      spread: s.spread.length > 0 ? s.spread.join(',') : null,
      constraints: s.constraints,
      startLatency: s.startLatency,
      ...rolloutFigures(session, rec),
      ...serverView,
      probeSkipped: session.probe?.skipped ?? 0,
      ...processFigures(session),
      ...(await healthFigures(session)),
      finalListSeconds: Math.round(check.listSeconds * 1000) / 1000,
      violations: violations.length,
    };
    return {
      title: `e2e: ${describeWorkload(s)}`,
      summary: [
        `cluster: 1 gantry server process, 1 gantry sim process of ${s.nodes} hollow nodes (${NODE_CAPACITY}, ${s.racks} racks, container start ${s.startLatency}); ` +
          `server start to all nodes ready ${session.cluster.registerSeconds.toFixed(1)} s`,
        ...liveSummary(session, rec, figures, s),
        check.violations.length === 0
          ? `verified: one full list of ${check.total} instances (${figures.finalListSeconds} s) — all Running, each on a ready node meeting its constraints`
          : `verified: FAILED on the full list of ${check.total} instances (${figures.finalListSeconds} s), see below`,
      ],
      figures,
      violations,
      charts: liveCharts(session, rec.startMs, 'the first apply'),
    };
  });
}
