// Scenario `dns`: Gantry's DNS server in process, over a real in-memory store and Catalog, with
// --endpoints ready instances of one service. Measures queries/s answered over UDP on loopback (A
// and SRV), and how long a readiness change takes from the store write of the instance's status
// to the first DNS answer that shows it (the server's share of "ready -> resolvable"; the agent's
// status batching and health-check interval come on top).
import dnsPacket from 'dns-packet';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { API_VERSION, type GantryNode, type Instance, type InstanceStatus } from '../src/core/index.js';
import { Catalog } from '../src/discovery/catalog.js';
import { DnsServer } from '../src/discovery/dns-server.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { anInstance } from '../src/core/test-builders.js';
import { dnsLoad } from './lib/dns-load.js';
import type { FlagReader } from './lib/flags.js';
import { percentile } from './lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

interface Settings {
  endpoints: number;
  concurrency: number;
  seconds: number;
  changes: number;
}

export const dnsBench: Scenario = {
  name: 'dns',
  description: "Gantry's DNS server in process: queries/s (A, SRV) and readiness change -> DNS answer latency",
  flags: {
    endpoints: { type: 'string', default: '10', value: '<n>', description: 'ready instances of the queried service' },
    concurrency: { type: 'string', default: '32', value: '<n>', description: 'UDP clients, one query in flight each' },
    seconds: { type: 'string', default: '5', value: '<n>', description: 'load duration per query type' },
    changes: { type: 'string', default: '200', value: '<n>', description: 'readiness flips timed for dnsChangeMs' },
  },
  run: (flags, ctx) => runDnsBench(readSettings(flags), ctx),
};

function readSettings(flags: FlagReader): Settings {
  return { endpoints: flags.int('endpoints', 1, 500), concurrency: flags.int('concurrency', 1, 1024), seconds: flags.int('seconds', 1, 600), changes: flags.int('changes', 1, 100_000) };
}

const status = (hostPort: number, ready: boolean): InstanceStatus => ({
  phase: 'Running',
  ready,
  hostIP: '127.0.0.1',
  containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts: { http: hostPort } }],
});

/** The number of SRV records one UDP query gets back. */
function srvCount(port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('DNS query timed out'));
    }, 2000);
    s.on('message', (m: Buffer) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m).answers?.length ?? 0);
    });
    // With EDNS (4096 bytes), as resolvers send it: SRV sets do not fit the classic 512 bytes.
    const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
    s.send(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'SRV', name }], additionals: [opt] }), port, '127.0.0.1');
  });
}

async function runDnsBench(s: Settings, ctx: ScenarioContext): Promise<ScenarioResult> {
  const logger = pino({ level: 'silent' });
  const store = openSqliteStore(':memory:');
  const stop = new AbortController();
  const catalog = new Catalog({ store, logger });
  const catalogDone = catalog.run(stop.signal);
  const server = new DnsServer({ catalog, logger });
  try {
    await catalog.synced;
    await server.listen([{ host: '127.0.0.1', port: 0 }]);
    const port = server.addresses[0]?.port ?? 0;
    await store.create<GantryNode>({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: { address: '127.0.0.1' } });
    const instances: Instance[] = [];
    for (let k = 0; k < s.endpoints; k++) {
      const i = anInstance(`web-${k}`, { node: 'n1', status: status(20000 + k, true) });
      instances.push(await store.create<Instance>({ ...i, spec: { ...i.spec, containers: [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }] } }));
    }
    const srvName = '_http._tcp.web.default.gantry';
    while (catalog.get('default', 'web').endpoints.length < s.endpoints) await new Promise((r) => setTimeout(r, 5));

    const load = { port, concurrency: s.concurrency, durationMs: s.seconds * 1000, signal: ctx.signal };
    const a = await dnsLoad({ ...load, name: 'web.default.gantry', type: 'A' });
    const srv = await dnsLoad({ ...load, name: srvName, type: 'SRV' });

    // Readiness flips of one instance: store write -> first UDP answer that counts it right.
    const changeMs: number[] = [];
    let inst = instances[0]!;
    for (let k = 0; k < s.changes && !ctx.signal.aborted; k++) {
      const ready = k % 2 === 1;
      const want = ready ? s.endpoints : s.endpoints - 1;
      const t0 = performance.now();
      inst = await store.update<Instance>({ ...inst, status: status(20000, ready) });
      while ((await srvCount(port, srvName)) !== want) {
        if (performance.now() - t0 > 5000) {
          throw new Error(`DNS did not show the change within 5 s (flip ${k}: catalog has ${catalog.get('default', 'web').endpoints.length}, DNS ${await srvCount(port, srvName)}, want ${want})`);
        }
      }
      changeMs.push(performance.now() - t0);
    }
    const round = (n: number): number => Math.round(n * 100) / 100;
    const figures = {
      dnsQps: a.qps,
      dnsSrvQps: srv.qps,
      dnsTimeouts: a.timeouts + srv.timeouts,
      dnsChangeP50Ms: round(percentile(changeMs, 50)),
      dnsChangeP99Ms: round(percentile(changeMs, 99)),
      endpoints: s.endpoints,
      concurrency: s.concurrency,
    };
    const violations = [...(a.errors + srv.errors > 0 ? [`${a.errors + srv.errors} answers were not NOERROR`] : [])];
    return {
      title: `dns: ${s.endpoints} endpoints, ${s.concurrency} UDP clients, ${s.seconds} s per query type, ${changeMs.length} readiness flips`,
      summary: [
        `A: ${figures.dnsQps} queries/s answered (${a.answered} in ${round(a.seconds)} s, ${a.timeouts} timeouts); SRV: ${figures.dnsSrvQps} queries/s (${srv.timeouts} timeouts)`,
        `readiness change -> DNS answer: p50 ${figures.dnsChangeP50Ms} ms, p99 ${figures.dnsChangeP99Ms} ms (store write of the status to the first UDP answer that shows it)`,
        'client and server share this process and its CPU: the rates are a floor for a server on its own core',
      ],
      figures,
      charts: [{ title: 'readiness change -> DNS answer', xLabel: 'flip', yLabel: 'ms', series: [{ name: 'change', points: changeMs.map((ms, k) => [k, ms] as [number, number]) }] }],
      violations,
    };
  } finally {
    await server.close();
    stop.abort();
    await catalogDone.catch(() => undefined);
    await store.close();
  }
}
