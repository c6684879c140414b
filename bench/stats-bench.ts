// Scenario `stats`: what live stats cost a node. A `gantry server` and one `gantry agent` (the
// docker driver, its own process) with --containers small containers on this machine's dockerd;
// once all run, the agent's CPU and RSS are read from /proc over --window seconds of sampling
// every --interval, and dockerd's CPU beside it (Docker's one-shot stats are computed there).
// Target (issue "Operate what runs"): the agent under 5% of a core at 100 containers, 10 s.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { GantryClient } from '../src/client/index.js';
import { ensureTestImage } from '../test/support/test-image.js';
import { startDockerCluster } from './lib/docker-cluster.js';
import { until } from './lib/until.js';
import { ensureBuild } from './lib/live-cluster.js';
import { readProc, type ProcSample } from './lib/proc-sampler.js';
import { sleep } from './lib/sleep.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const SERVICE = 'statsbench';
const TARGET_CPU_PERCENT = 5;

interface Settings {
  containers: number;
  intervalSeconds: number;
  windowSeconds: number;
}

export const statsBench: Scenario = {
  name: 'stats',
  description: "live stats' cost on one node: the agent's CPU and RSS while sampling N containers (real dockerd), and dockerd's CPU beside it",
  flags: {
    containers: { type: 'string', default: '100', value: '<n>', description: 'containers on the node' },
    interval: { type: 'string', default: '10', value: '<s>', description: 'the agent --stats-interval, seconds' },
    window: { type: 'string', default: '60', value: '<s>', description: 'seconds of sampling measured' },
  },
  run: (flags, ctx) => runStatsBench({ containers: flags.int('containers', 1, 500), intervalSeconds: flags.int('interval', 1, 600), windowSeconds: flags.int('window', 10, 3600) }, ctx),
};

/** dockerd's pid, or undefined when it cannot be found (its CPU is then not reported). */
async function dockerdPid(): Promise<number | undefined> {
  try {
    const { stdout } = await promisify(execFile)('pidof', ['dockerd']);
    const pid = Number(stdout.trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function running(client: GantryClient): Promise<number> {
  const { items } = await client.list('Instance', { namespace: 'default' });
  return items.filter((i) => i.status?.phase === 'Running').length;
}

async function runStatsBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { signal } = ctx;
  // A real dockerd: started here when none answers, as npm test does.
  await ensureBuild(signal, { docker: true });
  const image = await ensureTestImage();
  const cluster = await startDockerCluster({ tempPrefix: 'gantry-statsb-', nodeName: 'stats-bench', agentArgs: ['--stats-interval', `${s.intervalSeconds}s`, '--max-container-ops', '50'], signal });
  const { client, agent } = cluster;
  try {
    await client.apply({
      apiVersion: 'gantry/v1',
      kind: 'Service',
      metadata: { name: SERVICE },
      spec: {
        replicas: s.containers,
        containers: [{ name: 'main', image, command: ['/bin/sh', '-c', 'while true; do sleep 5; done'], resources: { cpu: '10m', memory: '8Mi' } }],
      },
    });
    const started = performance.now();
    await until(`${s.containers} running containers`, async () => ((await running(client)) === s.containers ? true : undefined), 600_000, signal);
    const startSeconds = (performance.now() - started) / 1000;
    // Two rounds first, so every container has a series and the rings are filling.
    await sleep(2 * s.intervalSeconds * 1000, signal);

    const dockerd = await dockerdPid();
    const t0 = performance.now();
    const a0 = readProc(agent.pid, 0);
    const d0 = dockerd === undefined ? undefined : readProc(dockerd, 0);
    const rss: number[] = [];
    const samples: ProcSample[] = [];
    for (let k = 0; k < s.windowSeconds; k++) {
      await sleep(1000, signal);
      const now = readProc(agent.pid, performance.now() - t0);
      if (now) {
        rss.push(now.rssMiB);
        samples.push(now);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const a1 = readProc(agent.pid, seconds * 1000);
    const d1 = dockerd === undefined ? undefined : readProc(dockerd, seconds * 1000);
    if (!a0 || !a1) throw new Error(`the agent (pid ${agent.pid}) ended during the measurement: ${await agent.exited}`);
    const agentPercent = ((a1.cpuSeconds - a0.cpuSeconds) / seconds) * 100;
    const dockerdPercent = d0 && d1 ? ((d1.cpuSeconds - d0.cpuSeconds) / seconds) * 100 : null;
    const instance = (await client.list('Instance', { namespace: 'default' })).items[0];
    const series = instance ? (await client.instanceStats('default', instance.metadata.name)).items[0] : undefined;

    const round1 = (n: number): number => Math.round(n * 10) / 10;
    const figures = {
      containers: s.containers,
      intervalSeconds: s.intervalSeconds,
      windowSeconds: round1(seconds),
      agentCpuPercentOfCore: round1(agentPercent),
      agentRssMiB: round1(a1.rssMiB),
      agentPeakRssMiB: round1(a1.hwmMiB),
      dockerdCpuPercentOfCore: dockerdPercent === null ? null : round1(dockerdPercent),
      samplesPerSeries: series?.samples.length ?? 0,
      startAllSeconds: round1(startSeconds),
    };
    const violations = (series?.samples.length ?? 0) < 2 ? [`instance ${instance?.metadata.name ?? '?'} has ${series?.samples.length ?? 0} samples after ${figures.windowSeconds} s of sampling`] : [];
    return {
      title: `stats: one agent sampling ${s.containers} containers every ${s.intervalSeconds} s (real dockerd), ${figures.windowSeconds} s measured`,
      summary: [
        `agent CPU: ${figures.agentCpuPercentOfCore}% of one core (target: under ${TARGET_CPU_PERCENT}%: ${agentPercent < TARGET_CPU_PERCENT ? 'met' : 'NOT met'}); it includes heartbeats and the 5 s re-inspection of every container, not only the sampling`,
        `agent RSS: ${figures.agentRssMiB} MiB now, ${figures.agentPeakRssMiB} MiB at peak`,
        `dockerd CPU meanwhile: ${figures.dockerdCpuPercentOfCore ?? '?'}% of one core (Docker's one-shot stats are computed there)`,
        `${figures.samplesPerSeries} samples in one instance's ring; ${s.containers} containers running ${figures.startAllSeconds} s after the apply`,
      ],
      figures,
      charts: [{ title: 'agent RSS while sampling', xLabel: 's', yLabel: 'MiB', series: [{ name: 'rss', points: samples.map((p) => [p.atMs / 1000, p.rssMiB] as [number, number]) }] }],
      violations,
    };
  } finally {
    await cluster.stop();
  }
}
