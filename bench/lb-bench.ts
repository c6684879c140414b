// Scenario `lb`: the HAProxy load balancer under `gantry up` with real Docker. A 3-replica service
// exposed on a service port; `wrk` through HAProxy and directly to one replica (lbRps, directRps);
// endpointChangeMs: a new instance's first appearance in the catalog (the endpoints watch) to the
// first answer HAProxy gets from it (a client hits the service port all along), over --changes
// scale-ups; dnsQps: Gantry's DNS server (same process) under the DNS load generator.
import { request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/cli/free-port.js';
import { createHttpClient, type GantryClient } from '../src/client/index.js';
import { containersWithLabels, removeContainers } from '../test/support/docker-cli.js';
import { ensureTestImage } from '../test/support/test-image.js';
import { ChildHandle } from './lib/child-process.js';
import { dnsLoad } from './lib/dns-load.js';
import { ensureBuild } from './lib/live-cluster.js';
import { until as untilEvery } from './lib/until.js';
import { percentile } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const MAIN_JS = new URL('../dist/cli/main.js', import.meta.url).pathname;
const REPO_ROOT = new URL('../', import.meta.url).pathname;
const SERVICE = 'lbbench';

interface Settings {
  connections: number;
  seconds: number;
  changes: number;
}

export const lbBench: Scenario = {
  name: 'lb',
  description: 'HAProxy load balancer under gantry up with Docker: requests/s through HAProxy vs direct (wrk), ready -> routed latency, DNS queries/s',
  flags: {
    connections: { type: 'string', default: '32', value: '<n>', description: 'wrk connections (2 threads)' },
    seconds: { type: 'string', default: '5', value: '<n>', description: 'wrk duration per target' },
    changes: { type: 'string', default: '20', value: '<n>', description: 'scale-ups timed for endpointChangeMs' },
  },
  run: (flags, ctx) => runLbBench({ connections: flags.int('connections', 2, 1024), seconds: flags.int('seconds', 1, 600), changes: flags.int('changes', 1, 1000) }, ctx),
};

/** One GET on a fresh connection; the body, or undefined on any failure. */
function hit(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

const manifest = (image: string, replicas: number, servicePort: number) => ({
  apiVersion: 'gantry/v1' as const,
  kind: 'Service' as const,
  metadata: { name: SERVICE },
  spec: {
    replicas,
    containers: [
      {
        name: 'web',
        image,
        command: ['/bin/sh', '-c', 'mkdir -p /www && echo "$GANTRY_INSTANCE" > /www/index.html && exec httpd -f -p 8080 -h /www'],
        // busybox httpd forks per request: its CPU limit sets the rates. 4 x 0.45 cores fit 2 cores.
        resources: { cpu: 0.45, memory: '16Mi' },
        ports: [{ name: 'http', containerPort: 8080 }],
        healthCheck: { http: { port: 'http', path: '/' }, interval: '1s' },
      },
    ],
    expose: [{ port: 'http', servicePort, mode: 'http' as const }],
  },
});

/** The API and HAProxy change within tenths of a second here: look every 100 ms. */
const until = <T,>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, signal: AbortSignal): Promise<T> => untilEvery(what, fn, timeoutMs, signal, 100);

async function upServers(client: GantryClient, n: number, signal: AbortSignal): Promise<{ address: string; port: number; instance: string }[]> {
  return until(`${n} servers UP in HAProxy`, async () => {
    const s = await client.loadBalancer('default', SERVICE);
    const up = s.entries[0]?.servers.filter((x) => x.state.startsWith('UP')) ?? [];
    return up.length === n ? up : undefined;
  }, 180_000, signal);
}

async function runLbBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { signal } = ctx;
  // A real dockerd: started here when none answers, as npm test does.
  await ensureBuild(signal, { docker: true });
  const image = await ensureTestImage();
  const dataDir = await mkdtemp(join(tmpdir(), 'gantry-lbb-'));
  const [apiPort, httpPort, servicePort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1'), await freePort('127.0.0.1')];
  const up = new ChildHandle({
    label: 'gantry up',
    command: process.execPath,
    args: [MAIN_JS, 'up', '--data-dir', dataDir, '--listen', `127.0.0.1:${apiPort}`, '--publish-address', '127.0.0.1', '--name', 'lb-bench', '--dns-listen', '127.0.0.1:0', '--lb-http-port', String(httpPort)],
    cwd: REPO_ROOT,
    logPath: join(dataDir, 'up.log'),
  });
  let clusterId = '';
  const watchStop = new AbortController();
  try {
    const [, url = ''] = await up.waitForLine(/Gantry is up at (https?:\/\/127\.0\.0\.1:\d+)/, 60_000, signal);
    const [, dnsPort = '0'] = await up.waitForLine(/dns:\s+127\.0\.0\.1:(\d+)/, 10_000, signal);
    clusterId = (await readFile(join(dataDir, 'cluster-id'), 'utf8')).trim();
    const ca = await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const client = createHttpClient({ server: url, token: (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim(), ca, timeoutMs: 60_000 });
    await until('the local node to be ready', async () => ((await client.list('Node')).items.some((n) => n.status?.ready) ? true : undefined), 60_000, signal);
    await client.apply(manifest(image, 3, servicePort));
    const servers = await upServers(client, 3, signal);

    const wrkOpts = { threads: 2, connections: s.connections, seconds: s.seconds };
    const viaLb = await runWrk(`http://127.0.0.1:${servicePort}/`, wrkOpts, signal);
    const one = servers[0]!;
    const direct = await runWrk(`http://${one.address}:${one.port}/`, wrkOpts, signal);

    // Catalog appearance of each instance (endpoints watch) and first answer through HAProxy.
    const inCatalog = new Map<string, number>();
    const served = new Map<string, number>();
    const watching = (async () => {
      for await (const ev of client.watchEndpoints('default', SERVICE, watchStop.signal)) {
        const now = performance.now();
        for (const e of ev.object?.endpoints ?? []) if (!inCatalog.has(e.instance)) inCatalog.set(e.instance, now);
      }
    })().catch(() => undefined);
    let hitting = true;
    let hits = 0;
    let failedHits = 0;
    // A few clients, so a new server's first turn in the round robin comes within milliseconds.
    const hitters = Array.from({ length: 4 }, async () => {
      while (hitting) {
        const body = await hit(servicePort);
        hits++;
        if (body === undefined) failedHits++;
        else if (!served.has(body)) served.set(body, performance.now());
      }
    });
    const sampled = new Set<string>();
    const changeMs: number[] = [];
    for (let k = 0; k < s.changes; k++) {
      const before = new Set((await client.endpoints('default', SERVICE)).endpoints.map((e) => e.instance));
      await client.scale('default', SERVICE, 4);
      const fresh = await until('a new instance to be served through HAProxy', async () => {
        for (const [name, t] of served) if (!before.has(name) && !sampled.has(name) && inCatalog.has(name)) return { name, t };
        return undefined;
      }, 120_000, signal);
      sampled.add(fresh.name);
      changeMs.push(fresh.t - inCatalog.get(fresh.name)!);
      await client.scale('default', SERVICE, 3);
      await until('3 endpoints again', async () => ((await client.endpoints('default', SERVICE)).endpoints.length === 3 ? true : undefined), 120_000, signal);
    }
    hitting = false;
    await Promise.all(hitters);
    watchStop.abort();
    await watching;

    const dns = await dnsLoad({ port: Number(dnsPort), name: `${SERVICE}.default.gantry`, type: 'A', concurrency: 32, durationMs: s.seconds * 1000, signal });
    await client.delete('Service', 'default', SERVICE);
    await until('the instances to go', async () => ((await client.list('Instance')).items.length === 0 ? true : undefined), 120_000, signal);

    const round = (n: number): number => Math.round(n * 10) / 10;
    const figures = {
      lbRps: Math.round(viaLb.rps),
      directRps: Math.round(direct.rps),
      endpointChangeMs: { p50: round(percentile(changeMs, 50)), p99: round(percentile(changeMs, 99)) },
      endpointChangeSamples: changeMs.length,
      dnsQps: dns.qps,
      wrkConnections: s.connections,
      wrkSeconds: s.seconds,
      wrkTimeoutsLb: viaLb.timeouts,
      wrkTimeoutsDirect: direct.timeouts,
      failedDuringChanges: failedHits,
    };
    const violations = [
      ...(viaLb.non2xx + viaLb.socketErrors > 0 ? [`through HAProxy: ${viaLb.non2xx} non-2xx answers, ${viaLb.socketErrors} socket errors (connect, read, write)`] : []),
      ...(failedHits > 0 ? [`${failedHits} of ${hits} requests failed while instances came and went`] : []),
    ];
    return {
      title: `lb: 3 replicas behind HAProxy, wrk -t2 -c${s.connections} -d${s.seconds}s, ${changeMs.length} scale-ups`,
      summary: [
        `through HAProxy: ${figures.lbRps} requests/s (${viaLb.requests} requests); directly to one replica: ${figures.directRps} requests/s`,
        `ready (in the catalog) -> first answer through HAProxy: p50 ${figures.endpointChangeMs.p50} ms, p99 ${figures.endpointChangeMs.p99} ms (target: p99 under 1000 ms)`,
        `${hits} requests during the scale-ups, ${failedHits} failed`,
        `DNS (A): ${dns.qps} queries/s (${dns.timeouts} timeouts)`,
        'wrk, HAProxy, Gantry and the containers share this machine: the rates are a floor',
      ],
      figures,
      charts: [{ title: 'ready -> routed through HAProxy', xLabel: 'scale-up', yLabel: 'ms', series: [{ name: 'change', points: changeMs.map((ms, k) => [k, ms] as [number, number]) }] }],
      violations,
    };
  } finally {
    watchStop.abort();
    await up.stop();
    if (clusterId) await removeContainers(await containersWithLabels({ 'io.gantry.cluster': clusterId }));
    await rm(dataDir, { recursive: true, force: true });
  }
}
