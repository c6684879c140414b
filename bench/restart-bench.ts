// Scenario `server-restart`: as e2e up to every instance Running, then the server is restarted on
// the same address and data dir (SIGTERM and a clean stop, or SIGKILL with --crash), as for an
// upgrade or after a crash. Measured from the new server's listening line:
// - until it has heard a heartbeat from every node (its gantry_node_leases_fresh gauge), and
//   until its node list shows every node ready;
// - that no instance was touched: a full list before and after holds the same instances (uids),
//   on the same nodes, with the same container ids and restart counts;
// - how the nodes' agents came back: watches resumed from a revision against lists, by kind
//   (gantry_api_reads_total), since a relist of every node's instances is the storm to avoid.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Instance } from '../src/core/index.js';
import { PROBE_SERVICE } from './lib/api-probe.js';
import type { FlagReader } from './lib/flags.js';
import { describeWorkload, LIVE_FLAGS, readLiveSettings } from './lib/live-flags.js';
import type { LiveSettings } from './lib/live-flags.js';
import { healthFigures, healthLine, probeFigures, processFigures } from './lib/live-report.js';
import { LiveSession, NODE_CAPACITY } from './lib/live-session.js';
import { workloadServices } from './lib/live-workload.js';
import { rollout, round, secondsSince } from './lib/rollout.js';
import { fetchMetrics, sumOf, type MetricSample } from './lib/server-metrics.js';
import { verifyAllRunning } from './lib/verify-running.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface RestartSettings extends LiveSettings {
  crash: boolean;
  settleSeconds: number;
}

export const restartBench: Scenario = {
  name: 'server-restart',
  description: 'e2e, then restart the server on the same data: time until every node is heard from and ready, instances untouched, no relist storm',
  flags: {
    ...LIVE_FLAGS,
    crash: { type: 'boolean', default: false, description: 'SIGKILL the server instead of SIGTERM (a crash, not an upgrade)' },
    settle: { type: 'string', default: '20', value: '<seconds>', description: 'after every node is heard from, watch this long for anything the restart disturbed' },
  },
  run: (flags: FlagReader, ctx) => runRestart({ ...readLiveSettings(flags), crash: flags.boolean('crash'), settleSeconds: flags.int('settle', 0, 3600) }, ctx),
};

/** What must not change across the restart, per instance uid (the probe's service, which it scales, left out). */
function fingerprints(items: readonly Instance[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of items) {
    if (i.spec.service === PROBE_SERVICE) continue;
    const containers = (i.status?.containers ?? []).map((c) => `${c.name}=${c.containerId ?? '-'}#${c.restartCount}`).join(',');
    out.set(i.metadata.uid, `${i.spec.node ?? i.status?.node ?? '-'} ${containers}`);
  }
  return out;
}

/** Instances gone, new, or changed (node, container id or restart count) between two lists. */
function compare(before: Map<string, string>, after: Map<string, string>): { gone: number; added: number; changed: number; examples: string[] } {
  let gone = 0;
  let added = 0;
  let changed = 0;
  const examples: string[] = [];
  for (const [uid, was] of before) {
    const now = after.get(uid);
    if (now === undefined) gone++;
    else if (now !== was) {
      changed++;
      if (examples.length < 3) examples.push(`${uid}: ${was} -> ${now}`);
    }
  }
  for (const uid of after.keys()) if (!before.has(uid)) added++;
  return { gone, added, changed, examples };
}

function readsLine(samples: readonly MetricSample[]): { figures: Record<string, number>; text: string } {
  const kinds = ['Instance', 'Node', 'Service', 'Config', 'Secret'];
  const figures: Record<string, number> = {};
  const parts: string[] = [];
  for (const kind of kinds) {
    const list = sumOf(samples, 'gantry_api_reads_total', { kind, how: 'list' });
    const resume = sumOf(samples, 'gantry_api_reads_total', { kind, how: 'resume' });
    const watch = sumOf(samples, 'gantry_api_reads_total', { kind, how: 'watch' });
    figures[`reads${kind}List`] = list;
    figures[`reads${kind}Resume`] = resume;
    figures[`reads${kind}Watch`] = watch;
    if (list + resume + watch > 0) parts.push(`${kind} ${resume} resumed, ${watch} from now, ${list} lists`);
  }
  return { figures, text: parts.join('; ') };
}

async function runRestart(s: RestartSettings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const session = await LiveSession.start({ settings: s, groups: [{ prefix: 'hollow', nodes: s.nodes, seed: s.seed }], nodeGracePeriod: '15s' }, ctx.signal);
  return session.run(async () => {
    const { cluster } = session;
    const services = workloadServices({ instances: s.instances, services: s.services, spread: s.spread, constraints: s.constraints, prefix: 'svc' });
    session.startProbe(s.probeRate, s.seed);
    const deploy = await rollout(session, { apply: services, concurrency: s.applyConcurrency, timeoutMs: s.timeoutMs, signal: ctx.signal });
    if (deploy.statusReadyMs === undefined) throw new Error(`the workload never became ready within --timeout ${s.timeoutMs / 1000} s, so the server was not restarted`);

    const before = fingerprints((await cluster.client.list('Instance')).items);
    // Every agent's instance watch (and the bench's own): the new server should see as many again.
    const streamsBefore = sumOf(await fetchMetrics(cluster.url, cluster.adminToken, cluster.ca), 'gantry_api_open_streams');
    session.progress(`restarting the server (${s.crash ? 'SIGKILL' : 'SIGTERM'}) with ${before.size} instances`);
    const restartMs = session.now();
    const { stoppedMs, listeningMs } = await session.restartServer(s.crash);
    session.progress(`server stopped ${((stoppedMs - restartMs) / 1000).toFixed(1)} s after the signal; the new one listened ${((listeningMs - stoppedMs) / 1000).toFixed(1)} s later (pid ${cluster.server.pid})`);

    let heard = 0;
    let streams = 0;
    let ready = 0;
    let heardMs: number | undefined;
    let streamsMs: number | undefined;
    let readyMs: number | undefined;
    await session.waitForAsync(async () => {
      const samples = await fetchMetrics(cluster.url, cluster.adminToken, cluster.ca).catch(() => []);
      heard = sumOf(samples, 'gantry_node_leases_fresh');
      streams = sumOf(samples, 'gantry_api_open_streams');
      if (heard >= s.nodes) heardMs ??= session.now();
      if (streams >= streamsBefore) streamsMs ??= session.now();
      if (readyMs === undefined) {
        const { items } = await cluster.client.list('Node').catch(() => ({ items: [] as { status?: { ready?: boolean } }[] }));
        ready = items.filter((n) => n.status?.ready === true).length;
        if (ready >= s.nodes) readyMs = session.now();
      }
      // Streams not all back 90 s after every node was ready: given up (the figure says never).
      return readyMs !== undefined && (streamsMs !== undefined || session.now() - readyMs > 90_000);
      // Once a second: a scrape also counts every node, instance and event (7% of the server's CPU at 250 ms).
    }, s.timeoutMs, 1000);
    if (s.settleSeconds > 0) {
      session.progress(`every node heard from and ready, the watches back; watching ${s.settleSeconds} s for anything the restart disturbed`);
      await new Promise((r) => setTimeout(r, s.settleSeconds * 1000));
    }
    const afterList = (await cluster.client.list('Instance')).items;
    const storeCloseMs = await firstStoreCloseMs(join(cluster.dataDir, 'server.log'));
    const diff = compare(before, fingerprints(afterList));
    const reads = readsLine(await fetchMetrics(cluster.url, cluster.adminToken, cluster.ca));
    const check = await verifyAllRunning(session, services);

    const violations = [...check.violations];
    if (heardMs === undefined) violations.push(`the new server heard from ${heard} of ${s.nodes} nodes within --timeout ${s.timeoutMs / 1000} s`);
    if (readyMs === undefined) violations.push(`${ready} of ${s.nodes} nodes were ready within --timeout ${s.timeoutMs / 1000} s of the restart`);
    if (diff.gone + diff.added + diff.changed > 0) violations.push(`the restart touched instances: ${diff.gone} gone, ${diff.added} new, ${diff.changed} changed (${diff.examples.join('; ')})`);
    const since = (ms: number | undefined): number | null => (ms === undefined ? null : round((ms - listeningMs) / 1000, 3));
    const earlier = session.earlierServerSamplers[0];
    const probe = probeFigures(session, listeningMs, heardMs ?? session.now());
    const proc = processFigures(session);
    const figures = {
      nodes: s.nodes,
      instances: s.instances,
      services: s.services,
      crash: s.crash,
      deployAllRunningSeconds: secondsSince(deploy, deploy.runningMs),
      stopSeconds: round((stoppedMs - restartMs) / 1000, 3),
      stopStoreCloseMs: storeCloseMs,
      startToListenSeconds: round((listeningMs - stoppedMs) / 1000, 3),
      allHeardSeconds: since(heardMs),
      allReadySeconds: since(readyMs),
      streamsBefore,
      allStreamsBackSeconds: since(streamsMs),
      instancesGone: diff.gone,
      instancesAdded: diff.added,
      instancesChanged: diff.changed,
      ...reads.figures,
      ...probe,
      serverBeforePeakRssMiB: earlier ? round(earlier.peakRssMiB(), 0) : null,
      ...proc,
      ...(await healthFigures(session)),
      violations: violations.length,
    };
    return {
      title: `server-restart: ${describeWorkload(s)}, ${s.crash ? 'SIGKILL' : 'SIGTERM'}`,
      summary: [
        `cluster: 1 gantry server, 1 sim process of ${s.nodes} hollow nodes (${NODE_CAPACITY}, start ${s.startLatency}); all ready ${cluster.registerSeconds.toFixed(1)} s after the server started`,
        `deploy: all ${s.instances} Running ${String(figures.deployAllRunningSeconds)} s after the first apply`,
        `restart (${s.crash ? 'SIGKILL' : 'SIGTERM'}): the old server ended ${String(figures.stopSeconds)} s after the signal${storeCloseMs === null ? '' : ` (closing the store: ${String(storeCloseMs)} ms)`}; the new one listened ${String(figures.startToListenSeconds)} s later (it loads the state file)`,
        `from the new server's listening line: every node heard from ${figures.allHeardSeconds ?? 'never'} s (gantry_node_leases_fresh = ${heard}), every node ready in its node list ${figures.allReadySeconds ?? 'never'} s (target <= 30 s); as many watch streams open as before (${streamsBefore}, gantry_api_open_streams) ${figures.allStreamsBackSeconds ?? `not within 90 s of that (${streams})`}${figures.allStreamsBackSeconds === null ? '' : ' s'}`,
        `instances: ${diff.gone} gone, ${diff.added} new, ${diff.changed} with another node, container or restart count, of ${before.size} (target 0)`,
        `reads the new server answered (gantry_api_reads_total): ${reads.text || 'none'}`,
        `API during the reconnect: GET p50 ${String(probe.apiGetP50Ms)} ms, p99 ${String(probe.apiGetP99Ms)} ms; ${String(probe.probeFailures)} probe failures`,
        `server peak RSS before the restart ${String(figures.serverBeforePeakRssMiB)} MiB, after ${String(proc.serverPeakRssMiB)} MiB; load ${String(proc.hostLoadAtStart)} -> ${String(proc.hostLoadAtEnd)}`,
        healthLine(figures),
        check.violations.length === 0 ? `verified: one full list of ${check.total} instances — all Running, each on a ready node` : `verified: FAILED on the full list of ${check.total} instances, see below`,
      ],
      figures,
      violations,
      charts: [],
    };
  });
}

/** The first server's `storeCloseMs` (its "gantry server stopped" line); null when it has none (a crash). */
async function firstStoreCloseMs(log: string): Promise<number | null> {
  const text = await readFile(log, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.includes('"gantry server stopped"')) continue;
    const ms = (JSON.parse(line) as { storeCloseMs?: unknown }).storeCloseMs;
    return typeof ms === 'number' ? ms : null;
  }
  return null;
}
