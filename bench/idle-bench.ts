// Scenario `idle`: what N nodes cost when nothing happens. A real `gantry server` and one
// `gantry sim` process of N hollow nodes with no workload (only the probe's two small services);
// once every node is ready it waits --settle, then measures for --seconds: the server's and the
// sim's CPU (from /proc), the requests the server answered by route (its own counters) and the
// watch streams open, and the store's writes (at idle: the heartbeats' refresh of the stored
// lastHeartbeat, a wave of every node once per refresh interval since they all registered within
// seconds, so the window must hold whole intervals: 240 s by default). What is left is the floor
// every rollout pays on top of its own work: heartbeats, watch bookmarks, the controllers'
// periodic passes. CPU per heartbeat divides all of it by the heartbeats answered, so it is an
// upper bound of one heartbeat's cost.
import type { FlagReader } from './lib/flags.js';
import { LIVE_FLAGS, storeFlag } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { healthFigures, processFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY, requestRates } from './lib/live-session.js';
import { round } from './lib/rollout.js';
import { sleep } from './lib/sleep.js';
import { sumOf } from './lib/server-metrics.js';
import type { FlagSpec, Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface IdleSettings extends LiveSettings {
  seconds: number;
  settleSeconds: number;
  maxHeartbeats: number | undefined;
}

/** The live flags that mean something without a workload. */
function liveFlags(...names: string[]): Record<string, FlagSpec> {
  const picked: Record<string, FlagSpec> = {};
  for (const n of names) {
    const spec = LIVE_FLAGS[n];
    if (spec) picked[n] = spec;
  }
  return picked;
}

export const idleBench: Scenario = {
  name: 'idle',
  description: 'hollow nodes and no workload: the server\'s and the sim\'s CPU a second, requests by route, CPU per heartbeat',
  flags: {
    ...liveFlags('nodes', 'racks', 'seed', 'timeout', 'profile', 'store', 'keep'),
    seconds: { type: 'string', default: '240', value: '<n>', description: 'how long to measure once every node is ready and settled (a multiple of the stored heartbeat\'s refresh: 60 s, 120 s at 5,000 nodes, 240 s at 10,000)' },
    settle: { type: 'string', default: '15', value: '<n>', description: 'seconds to wait after every node is ready before measuring' },
    'max-heartbeats-per-second': { type: 'string', value: '<n>', description: 'passed to the server (its own default when absent): the heartbeat rate it paces agents to' },
  },
  run: (flags, ctx) => runIdle(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): IdleSettings {
  // The server's own bounds (gantry server --max-heartbeats-per-second), so a typo fails here.
  const max = flags.string('max-heartbeats-per-second') === undefined ? undefined : flags.int('max-heartbeats-per-second', 10, 100_000);
  // The live settings the session reads, without a workload (flags that would not apply are not offered).
  const live: LiveSettings = {
    nodes: flags.int('nodes'),
    instances: 0,
    services: 0,
    racks: flags.int('racks'),
    spread: [],
    constraints: false,
    startLatency: '50ms',
    seed: flags.int('seed', 0, 2 ** 31 - 1),
    probeRate: 1,
    applyConcurrency: 1,
    timeoutMs: flags.int('timeout') * 1000,
    keep: flags.boolean('keep'),
    profile: flags.boolean('profile'),
    store: storeFlag(flags),
  };
  return { ...live, seconds: flags.int('seconds', 5, 3600), settleSeconds: flags.int('settle', 0, 600), maxHeartbeats: max };
}

async function runIdle(s: IdleSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const serverArgs = s.maxHeartbeats === undefined ? [] : ['--max-heartbeats-per-second', String(s.maxHeartbeats)];
  const session = await LiveSession.start({ settings: s, groups: [{ prefix: 'hollow', nodes: s.nodes, seed: s.seed }], nodeGracePeriod: '15s', serverArgs }, ctx.signal);
  return session.run(async () => {
    if (s.settleSeconds > 0) {
      session.progress(`every node ready; settling ${s.settleSeconds} s`);
      await sleep(s.settleSeconds * 1000, ctx.signal);
    }
    session.progress(`measuring ${s.seconds} s with nothing to do`);
    const before = await session.scrape();
    const fromMs = session.now();
    await sleep(s.seconds * 1000, ctx.signal);
    session.assertAlive();
    const after = await session.scrape();
    const toMs = session.now();
    const seconds = (toMs - fromMs) / 1000;
    if (before.length === 0 || after.length === 0) throw new Error('the server\'s /metrics did not answer, so no request counts');
    const { total, top: rates } = requestRates(before, after, 'gantry_api_request_duration_seconds_count', seconds, Number.POSITIVE_INFINITY);
    const heartbeats = rates.find(([route]) => route === 'nodes.heartbeat')?.[1] ?? 0;
    const serverCpu = session.serverSampler.cpuSecondsBetween(fromMs, toMs) / seconds;
    const simCpu = session.simSamplers.reduce((t, x) => t + x.cpuSecondsBetween(fromMs, toMs), 0) / seconds;
    const streams = sumOf(after, 'gantry_api_open_streams');
    const writes = (sumOf(after, 'gantry_store_write_duration_seconds_count') - sumOf(before, 'gantry_store_write_duration_seconds_count')) / seconds;
    const perHeartbeatUs = (cores: number): number | null => (heartbeats > 0 ? round((cores * 1e6) / heartbeats, 1) : null);
    const proc = processFigures(session);
    const figures = {
      nodes: s.nodes,
      measuredSeconds: round(seconds, 1),
      maxHeartbeatsPerSecond: s.maxHeartbeats ?? null,
      heartbeatsPerSecond: round(heartbeats, 1),
      requestsPerSecond: round(total, 1),
      busiestRoutes: rates.slice(0, 4).map(([route, r]) => `${route} ${Math.round(r)}/s`).join(', '),
      openStreams: streams,
      storeWritesPerSecond: round(writes, 1),
      serverCores: round(serverCpu, 3),
      simCores: round(simCpu, 3),
      serverCpuUsPerHeartbeat: perHeartbeatUs(serverCpu),
      simCpuUsPerHeartbeat: perHeartbeatUs(simCpu),
      serverRssMiB: round(session.serverSampler.samples.at(-1)?.rssMiB ?? 0, 0),
      ...proc,
      ...(await healthFigures(session)),
    };
    return {
      title: `idle: ${s.nodes} hollow nodes, no workload, ${s.seconds} s measured`,
      summary: [
        `cluster: 1 gantry server process, 1 gantry sim process of ${s.nodes} hollow nodes (${NODE_CAPACITY}); server start to all nodes ready ${session.cluster.registerSeconds.toFixed(1)} s` +
          (s.maxHeartbeats === undefined ? '' : `; server --max-heartbeats-per-second ${s.maxHeartbeats}`),
        `requests the server answered: ${figures.requestsPerSecond}/s (${figures.busiestRoutes || 'none'}); watch streams open: ${streams}; store writes ${figures.storeWritesPerSecond}/s`,
        `CPU while idle: server ${figures.serverCores} cores, sim ${figures.simCores} cores` +
          ` -> per heartbeat (all idle work divided by heartbeats): server ${figures.serverCpuUsPerHeartbeat ?? '?'} µs, sim ${figures.simCpuUsPerHeartbeat ?? '?'} µs`,
        `host: 1-min load average ${String(proc.hostLoadAtStart)} at the start, ${String(proc.hostLoadAtEnd)} at the end; speed ${String(proc.hostSpeedAtStart)}k JSON round trips/s`,
      ],
      figures,
      violations: [],
      charts: [],
    };
  });
}
