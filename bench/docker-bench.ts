// Scenario `docker`: how long Gantry takes to get a service's replicas ready on the real dockerd,
// beside the floor measured in the same run: the same containers started with `docker run`,
// --parallel at a time, until each answers HTTP. Rounds alternate (floor, Gantry, floor, ...) so a
// change in the machine's load falls on both; the figures are the medians.
//
// Each replica is busybox httpd on port 8080 (the test image, FROM scratch). Gantry's service has
// an HTTP health check every 1 s and a dynamic host port on 127.0.0.1; "ready" is the instance's
// `status.ready`, which the agent sets after a probe passed. The floor's probe is the bench's own
// GET every 50 ms on each container's published port. The Gantry side is split from a watch on
// the instances: apply -> all created -> all bound -> all Running (container started) -> all ready.
//
// Both sides get the same CPU and memory limits (--cpu, default 100m, Gantry's own default): a
// 10m quota alone makes a start three times slower, whoever sends it (runc's init and the
// process's first steps run under 1% of a core).
//
// Target (issue 14): Gantry's time to N/N ready within 1.25x of the floor.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import type { Instance } from '../src/core/index.js';
import { ensureTestImage } from '../test/support/test-image.js';
import { freePort } from '../src/cli/free-port.js';
import { startDockerCluster } from './lib/docker-cluster.js';
import { until } from './lib/until.js';
import { ensureBuild } from './lib/live-cluster.js';
import { sleep } from './lib/sleep.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const run = promisify(execFile);
const SERVICE = 'dockerbench';
const TARGET_RATIO = 1.25;
// The same limits on both sides: a container is the same container whoever starts it.
const MEMORY = '16Mi';
const MEMORY_DOCKER = '16m';
const HTTPD = 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www';

interface Settings {
  replicas: number;
  parallel: number;
  rounds: number;
  maxContainerOps: number | undefined;
  /** The replicas' CPU limit in millicores; the floor's containers get the same (docker run --cpus). */
  cpuMillis: number;
  keep: boolean;
}

export const dockerBench: Scenario = {
  name: 'docker',
  description: "seconds from apply to N/N ready on the real dockerd (1 s HTTP health check), beside parallel `docker run` of the same containers until each answers HTTP",
  flags: {
    replicas: { type: 'string', default: '20', value: '<n>', description: 'replicas (and floor containers)' },
    parallel: { type: 'string', default: '8', value: '<n>', description: 'docker run calls at once for the floor' },
    rounds: { type: 'string', default: '3', value: '<n>', description: 'rounds of each; the medians are reported' },
    cpu: { type: 'string', default: '100', value: '<millicores>', description: "each container's CPU limit, on both sides (a quota: 10 makes runc and the process start under 1% of a core)" },
    'max-container-ops': { type: 'string', value: '<n>', description: "the agent's --max-container-ops (default: the agent's own)" },
    keep: { type: 'boolean', default: false, description: "keep the server's and agent's data dir and logs" },
  },
  run: (flags, ctx) =>
    runDockerBench(
      {
        replicas: flags.int('replicas', 1, 200),
        parallel: flags.int('parallel', 1, 64),
        rounds: flags.int('rounds', 1, 20),
        maxContainerOps: flags.has('max-container-ops') ? flags.int('max-container-ops', 1, 1000) : undefined,
        cpuMillis: flags.int('cpu', 10, 64_000),
        keep: flags.boolean('keep'),
      },
      ctx,
    ),
};

/** Whether GET http://127.0.0.1:port/ answers 200 within 1 s. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Runs `fn` over `items`, `parallel` at a time. */
async function pool<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** One floor round: seconds until all `replicas` containers answer HTTP. */
async function floorRound(s: Settings, image: string, runId: string, signal: AbortSignal): Promise<number> {
  const ports = await Promise.all(Array.from({ length: s.replicas }, () => freePort('127.0.0.1')));
  const label = `io.gantry.bench=${runId}`;
  const t0 = performance.now();
  const answered = new Set<number>();
  // Each container is polled from the moment its docker run returned.
  const polls: Promise<void>[] = [];
  try {
    await pool(ports, s.parallel, async (port) => {
      await run('docker', ['run', '-d', '--label', label, '-p', `127.0.0.1:${port}:8080`, '--memory', MEMORY_DOCKER, '--cpus', String(s.cpuMillis / 1000), image, '/bin/sh', '-c', HTTPD]);
      polls.push(
        (async () => {
          while (!(await answers(port))) {
            signal.throwIfAborted();
            await sleep(50, signal);
          }
          answered.add(port);
        })(),
      );
    });
    await Promise.all(polls);
    return (performance.now() - t0) / 1000;
  } finally {
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${label}`]);
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
  }
}

interface GantryRound {
  readySeconds: number;
  createdSeconds: number;
  boundSeconds: number;
  runningSeconds: number;
}

/** One Gantry round: apply, watch until every replica is ready, then delete and wait until its containers are gone. */
async function gantryRound(s: Settings, image: string, cluster: Awaited<ReturnType<typeof startDockerCluster>>, signal: AbortSignal): Promise<GantryRound> {
  const { client } = cluster;
  const watchStop = new AbortController();
  const onAbort = (): void => watchStop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const firstSeen = { created: new Map<string, number>(), bound: new Map<string, number>(), running: new Map<string, number>(), ready: new Map<string, number>() };
  const { revision } = await client.list('Instance', { namespace: 'default' });
  let t0 = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const note = (inst: Instance): void => {
    const name = inst.metadata.name;
    const at = (performance.now() - t0) / 1000;
    if (inst.spec.service !== SERVICE) return;
    if (!firstSeen.created.has(name)) firstSeen.created.set(name, at);
    if (inst.spec.node && !firstSeen.bound.has(name)) firstSeen.bound.set(name, at);
    if (inst.status?.phase === 'Running' && !firstSeen.running.has(name)) firstSeen.running.set(name, at);
    if (inst.status?.ready && !firstSeen.ready.has(name)) firstSeen.ready.set(name, at);
    if (firstSeen.ready.size >= s.replicas) resolveDone();
  };
  const watching = (async () => {
    for await (const ev of client.watch({ kind: 'Instance', namespace: 'default', fromRevision: revision }, watchStop.signal)) {
      if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.object.kind === 'Instance') note(ev.object);
    }
  })().catch(() => undefined);
  try {
    t0 = performance.now();
    await client.apply({
      apiVersion: 'gantry/v1',
      kind: 'Service',
      metadata: { name: SERVICE },
      spec: {
        replicas: s.replicas,
        containers: [
          {
            name: 'web',
            image,
            command: ['/bin/sh', '-c', HTTPD],
            resources: { cpu: `${s.cpuMillis}m`, memory: MEMORY },
            ports: [{ name: 'http', containerPort: 8080 }],
            healthCheck: { http: { port: 'http', path: '/' }, interval: '1s' },
          },
        ],
      },
    });
    await Promise.race([done, sleep(300_000, signal).then(() => Promise.reject(new Error(`${firstSeen.ready.size} of ${s.replicas} ready after 300 s`)))]);
    const last = (m: Map<string, number>): number => Math.max(...m.values());
    return { readySeconds: last(firstSeen.ready), createdSeconds: last(firstSeen.created), boundSeconds: last(firstSeen.bound), runningSeconds: last(firstSeen.running) };
  } finally {
    watchStop.abort();
    signal.removeEventListener('abort', onAbort);
    await watching;
    await client.delete('Service', 'default', SERVICE).catch(() => undefined);
    await until('the service\'s instances to be gone', async () => ((await client.list('Instance', { namespace: 'default' })).items.length === 0 ? true : undefined), 120_000, signal);
  }
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round2 = (n: number): number => Math.round(n * 100) / 100;

async function runDockerBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { signal } = ctx;
  // A real dockerd: started here when none answers, as npm test does.
  await ensureBuild(signal, { docker: true });
  const image = await ensureTestImage();
  const agentArgs = s.maxContainerOps === undefined ? [] : ['--max-container-ops', String(s.maxContainerOps)];
  const cluster = await startDockerCluster({ tempPrefix: 'gantry-dockerb-', nodeName: 'docker-bench', agentArgs, signal, keep: s.keep });
  const runId = `docker-bench-${process.pid}`;
  const loadAtStart = loadavg()[0]!;
  const floors: number[] = [];
  const rounds: GantryRound[] = [];
  try {
    for (let r = 0; r < s.rounds; r++) {
      floors.push(await floorRound(s, image, runId, signal));
      rounds.push(await gantryRound(s, image, cluster, signal));
    }
  } finally {
    await cluster.stop();
  }
  const loadAtEnd = loadavg()[0]!;
  const floor = median(floors);
  const gantry = median(rounds.map((r) => r.readySeconds));
  const ratio = gantry / floor;
  const figures = {
    replicas: s.replicas,
    parallel: s.parallel,
    cpuMillis: s.cpuMillis,
    rounds: s.rounds,
    floorSeconds: round2(floor),
    gantryReadySeconds: round2(gantry),
    ratio: round2(ratio),
    gantryCreatedSeconds: round2(median(rounds.map((r) => r.createdSeconds))),
    gantryBoundSeconds: round2(median(rounds.map((r) => r.boundSeconds))),
    gantryRunningSeconds: round2(median(rounds.map((r) => r.runningSeconds))),
    floorRoundsSeconds: floors.map(round2),
    gantryRoundsSeconds: rounds.map((r) => round2(r.readySeconds)),
    hostLoadAtStart: round2(loadAtStart),
    hostLoadAtEnd: round2(loadAtEnd),
  };
  return {
    title: `docker: ${s.replicas} replicas (${s.cpuMillis}m CPU, ${MEMORY} each) with a 1 s HTTP health check on the real dockerd, beside ${s.parallel}-parallel docker run of the same containers; ${s.rounds} rounds each`,
    summary: [
      `floor (docker run, ${s.parallel} at a time, until each answers HTTP): median ${figures.floorSeconds} s (rounds: ${figures.floorRoundsSeconds.join(', ')} s)`,
      `Gantry, apply to ${s.replicas}/${s.replicas} ready: median ${figures.gantryReadySeconds} s (rounds: ${figures.gantryRoundsSeconds.join(', ')} s)`,
      `  where it went (medians, from the apply): all created ${figures.gantryCreatedSeconds} s, all bound ${figures.gantryBoundSeconds} s, all Running ${figures.gantryRunningSeconds} s, all ready ${figures.gantryReadySeconds} s`,
      `ratio: ${figures.ratio} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
      `host: 1-min load average ${figures.hostLoadAtStart} at the start, ${figures.hostLoadAtEnd} at the end (the server, the agent and dockerd share the machine)`,
    ],
    figures,
    charts: [],
    violations: [],
  };
}
