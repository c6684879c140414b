// Scenario `node-loss`: as e2e up to every instance Running, then K% of the nodes die at once.
// The hollow nodes run in two sim processes (survivors and victims) and the victims' process is
// SIGKILLed: its agents stop heartbeating and their sockets close, as when hosts lose power.
// Measured from the heartbeat deadline (the victims' last heartbeat + --node-grace-period, which
// the server is given explicitly, + the stretch of a big cluster's slower heartbeats) until every
// lost instance runs again on a surviving node.
import { parseDuration } from '../src/core/index.js';
import { heartbeatStretchMs } from '../src/runtime/heartbeat-pace.js';
import type { FlagReader } from './lib/flags.js';
import { describeWorkload, duration, LIVE_FLAGS, readLiveSettings } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { liveCharts, probeFigures, processFigures, healthFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY } from './lib/live-session.js';
import { liveSummary } from './lib/live-summary.js';
import { workloadServices } from './lib/live-workload.js';
import { isLive } from './lib/instance-tracker.js';
import { rollout, round, secondsSince } from './lib/rollout.js';
import { verifyAllRunning } from './lib/verify-running.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const SURVIVORS = 'hollow';
const VICTIMS = 'doomed';

interface NodeLossSettings extends LiveSettings {
  killPercent: number;
  gracePeriod: string;
  graceMs: number;
}

export const nodeLossBench: Scenario = {
  name: 'node-loss',
  description: 'e2e, then SIGKILL the sim process holding K% of the nodes: time to detect and to run every lost instance elsewhere',
  flags: {
    ...LIVE_FLAGS,
    'kill-percent': { type: 'string', default: '5', value: '<p>', description: 'percent of the nodes that die (at least one node)' },
    'node-grace-period': { type: 'string', default: '15s', value: '<duration>', description: 'the server marks a silent node not ready after this' },
  },
  run: (flags, ctx) => runNodeLoss(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): NodeLossSettings {
  const gracePeriod = duration(flags, 'node-grace-period');
  return { ...readLiveSettings(flags), killPercent: flags.int('kill-percent', 1, 99), gracePeriod, graceMs: parseDuration(gracePeriod) ?? 15_000 };
}

async function runNodeLoss(s: NodeLossSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const victims = Math.max(1, Math.round((s.nodes * s.killPercent) / 100));
  if (victims >= s.nodes) throw new Error(`--kill-percent ${s.killPercent} of ${s.nodes} nodes leaves none alive: use more nodes`);
  const session = await LiveSession.start(
    {
      settings: s,
      groups: [
        { prefix: SURVIVORS, nodes: s.nodes - victims, seed: s.seed },
        { prefix: VICTIMS, nodes: victims, seed: s.seed + 1 },
      ],
      nodeGracePeriod: s.gracePeriod,
    },
    ctx.signal,
  );
  return session.run(async () => {
    const services = workloadServices({ instances: s.instances, services: s.services, spread: s.spread, constraints: s.constraints, prefix: 'svc' });
    session.startProbe(s.probeRate, s.seed);
    const deploy = await rollout(session, { apply: services, concurrency: s.applyConcurrency, timeoutMs: s.timeoutMs, signal: ctx.signal });
    if (deploy.statusReadyMs === undefined) throw new Error(`the workload never became ready within --timeout ${s.timeoutMs / 1000} s, so no node was killed`);

    const isVictim = (node: string | undefined): boolean => node?.startsWith(`${VICTIMS}-`) === true;
    const { tracker } = session;
    const lostInstances = tracker.countWhere((i) => isVictim(i.node) && isLive(i));
    const sim = session.cluster.sims.get(VICTIMS);
    if (!sim) throw new Error('no victim sim process');
    session.expectedDead.add(sim.pid);
    const killMs = session.now();
    sim.killNow();

    let lostMs: number | undefined;
    let reboundMs: number | undefined;
    const [detectMs, recoverMs] = await Promise.all([
      session.waitForAsync(async () => {
        const { items } = await session.cluster.client.list('Node');
        return items.filter((n) => isVictim(n.metadata.name) && n.status?.ready !== false).length === 0;
      }, s.timeoutMs),
      session.waitFor(
        () => {
          const now = session.now();
          if (lostMs === undefined && tracker.countWhere((i) => isVictim(i.node) && isLive(i)) === 0) lostMs = now;
          if (reboundMs === undefined && tracker.countWhere((i) => i.node !== undefined && !isVictim(i.node) && isLive(i)) >= s.instances) reboundMs = now;
          return tracker.countWhere((i) => i.phase === 'Running' && !isVictim(i.node)) >= s.instances && lostMs !== undefined;
        },
        s.timeoutMs,
        100,
      ),
    ]);
    // The silence the server tolerates: the grace period, stretched for a big cluster's slower
    // heartbeats (runtime/heartbeat-pace.ts, at the server's default pace).
    const stretchMs = heartbeatStretchMs(s.nodes);
    const toleratedMs = s.graceMs + stretchMs;
    const deadlineMs = detectMs === undefined ? killMs + toleratedMs : await heartbeatDeadline(session, isVictim, toleratedMs, killMs);
    const statusMs = recoverMs === undefined ? undefined : await session.waitForAsync(async () => (await session.poller.pollNow()).allReady, s.timeoutMs);
    const endMs = statusMs ?? recoverMs ?? session.now();
    const check = await verifyAllRunning(session, services, (n) => !isVictim(n.metadata.name));

    const violations = [...check.violations];
    if (detectMs === undefined) violations.push(`the ${victims} killed nodes were not all marked not ready within --timeout ${s.timeoutMs / 1000} s`);
    if (recoverMs === undefined) violations.push(`the ${lostInstances} lost instances did not all run elsewhere within --timeout ${s.timeoutMs / 1000} s`);
    const fromDeadline = (ms: number | undefined): number | null => (ms === undefined ? null : round((ms - deadlineMs) / 1000, 3));
    const figures = {
      nodes: s.nodes,
      instances: s.instances,
      services: s.services,
      killPercent: s.killPercent,
      killedNodes: victims,
      deadlineAfterKillSeconds: round((deadlineMs - killMs) / 1000, 3),
      lostInstances,
      nodeGracePeriodSeconds: s.graceMs / 1000,
      deployAllRunningSeconds: secondsSince(deploy, deploy.runningMs),
      detectSeconds: detectMs === undefined ? null : round((detectMs - killMs) / 1000, 3),
      lostMarkedSeconds: fromDeadline(lostMs),
      reboundSeconds: fromDeadline(reboundMs),
      recoverSeconds: fromDeadline(recoverMs),
      recoverSinceKillSeconds: recoverMs === undefined ? null : round((recoverMs - killMs) / 1000, 3),
      statusRecoverSeconds: fromDeadline(statusMs),
      ...probeFigures(session, killMs, endMs),
      serverCpuSeconds: round(session.serverSampler.cpuSecondsBetween(killMs, endMs), 2),
      ...processFigures(session),
      ...(await healthFigures(session)),
      violations: violations.length,
    };
    const deployProbe = probeFigures(session, deploy.startMs, deploy.statusReadyMs);
    return {
      title: `node-loss: ${describeWorkload(s)}, ${victims} nodes (${s.killPercent}%) killed, grace ${s.gracePeriod}`,
      summary: [
        `cluster: 1 gantry server (--node-grace-period ${s.gracePeriod}), sim processes of ${s.nodes - victims} + ${victims} hollow nodes (${NODE_CAPACITY}, start ${s.startLatency}); ` +
          `all ready ${session.cluster.registerSeconds.toFixed(1)} s after the server started`,
        `deploy: all ${s.instances} Running ${String(figures.deployAllRunningSeconds)} s after the first apply; ` +
          `API p99 GET ${String(deployProbe.apiGetP99Ms)} ms, apply ${String(deployProbe.apiApplyP99Ms)} ms meanwhile`,
        `loss: SIGKILL of the sim process of ${victims} nodes holding ${lostInstances} Running instances; heartbeat deadline ${String(figures.deadlineAfterKillSeconds)} s after the kill ` +
          `(the killed nodes' latest status.lastHeartbeat + ${s.gracePeriod}${stretchMs > 0 ? ` + ${stretchMs / 1000} s for the slower heartbeats of ${s.nodes} nodes` : ''}, read once they were marked not ready)`,
        `detect: ${figures.detectSeconds ?? 'never'} s from the kill until the node list shows every killed node not ready (polled every 250 ms)`,
        `from the deadline: lost instances marked Lost/removed ${figures.lostMarkedSeconds ?? 'never'} s, replacements bound ${figures.reboundSeconds ?? 'never'} s, ` +
          `all Running on survivors (watch) ${figures.recoverSeconds ?? 'never'} s = recoverSeconds (${figures.recoverSinceKillSeconds ?? 'never'} s after the kill); ` +
          `services' status ready ${figures.statusRecoverSeconds ?? 'never'} s`,
        ...liveSummary(session, { ...deploy, startMs: killMs, runningMs: recoverMs, statusReadyMs: statusMs }, figures, s, 'the kill').slice(3),
        check.violations.length === 0
          ? `verified: one full list of ${check.total} instances — all Running, none on a killed node`
          : `verified: FAILED on the full list of ${check.total} instances, see below`,
      ],
      figures,
      violations,
      charts: liveCharts(session, killMs, 'the kill').map((c, i) =>
        i === 0 ? { ...c, series: [...c.series, { name: 'heartbeat deadline', points: [[(deadlineMs - killMs) / 1000, 0], [(deadlineMs - killMs) / 1000, s.instances]] }] } : c,
      ),
    };
  });
}

/**
 * The bench-clock instant from which the server may call every killed node lost: the latest
 * heartbeat it received from them plus the grace period. Not kill + grace: the last heartbeat
 * came up to one heartbeat interval before the kill. Read after detection: while a node is ready
 * its stored status.lastHeartbeat is only refreshed now and then (heartbeats renew an in-memory
 * lease), and the node controller stamps the true last heartbeat when it marks the node not
 * ready. lastHeartbeat is the server's wall clock, on this same host.
 */
async function heartbeatDeadline(session: LiveSession, isVictim: (node: string) => boolean, graceMs: number, killMs: number): Promise<number> {
  const { items } = await session.cluster.client.list('Node');
  const beats = items.filter((n) => isVictim(n.metadata.name)).map((n) => Date.parse(n.status?.lastHeartbeat ?? ''));
  const last = Math.max(...beats.filter((t) => Number.isFinite(t)));
  if (!Number.isFinite(last)) return killMs + graceMs;
  const benchMinusEpoch = session.now() - Date.now();
  return last + benchMinusEpoch + graceMs;
}
