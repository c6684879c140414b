// Scenario `cli`: how long one `gantry` command takes as a user runs it (a new Node process each
// time, bin/gantry from the build), against a real server started in this process with a few
// services. Prints the median wall time of `gantry get services` and `gantry version`, and of
// `node -e 0` (what Node's own start costs on this machine), run one after another.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { createHttpClient } from '../src/client/http-client.js';
import { startServer } from '../src/server/index.js';
import { AppError, API_VERSION } from '../src/core/index.js';
import { percentile } from './lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const REPO = resolve(import.meta.dirname, '..');
const BIN = join(REPO, 'bin/gantry');
const TARGET_MS = 300;

export const cliBench: Scenario = {
  name: 'cli',
  description: 'wall time of one CLI call (new process): gantry get services, gantry version, and node -e 0 for scale',
  flags: {
    runs: { type: 'string', default: '15', value: '<n>', description: 'calls of each command (the median is reported)' },
    services: { type: 'string', default: '3', value: '<n>', description: 'services the server holds' },
  },
  run: (flags, ctx) => runCliBench(flags.int('runs', 1, 1000), flags.int('services', 0, 1000), ctx),
};

const run = promisify(execFile);

/** Asynchronous on purpose: the server answering the calls runs in this process's event loop. */
async function timeRuns(args: string[], runs: number, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < runs; k++) {
    if (signal.aborted) throw signal.reason;
    const t0 = performance.now();
    await run(process.execPath, args, { cwd: REPO, env }).catch((e: unknown) => {
      throw new AppError('INTERNAL', `node ${args.join(' ')} failed: ${(e as Error).message}`);
    });
    out.push(performance.now() - t0);
  }
  return out;
}

async function runCliBench(runs: number, services: number, ctx: ScenarioContext): Promise<ScenarioResult> {
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new AppError('UNAVAILABLE', 'the CLI is not built: npm run build first');
  const dataDir = await mkdtemp(join(tmpdir(), 'gantry-bench-cli-'));
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }), version: 'bench' });
  try {
    const client = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
    for (let k = 0; k < services; k++) {
      await client.apply({ apiVersion: API_VERSION, kind: 'Service', metadata: { name: `web-${k}` }, spec: { replicas: 0, containers: [{ name: 'web', image: 'gantry-examples/hello:1' }] } });
    }
    const env = { ...process.env, GANTRY_ADDR: server.url, GANTRY_TOKEN: server.adminToken, GANTRY_HOME: dataDir };
    const nodeStart = await timeRuns(['-e', '0'], runs, env, ctx.signal);
    const get = await timeRuns([BIN, 'get', 'services'], runs, env, ctx.signal);
    const version = await timeRuns([BIN, 'version'], runs, env, ctx.signal);
    const med = (v: number[]) => Math.round(percentile(v, 50));
    const figures = { getServicesMedianMs: med(get), versionMedianMs: med(version), nodeStartMedianMs: med(nodeStart), runs, targetMs: TARGET_MS };
    return {
      title: `cli: ${runs} calls each, ${services} services, a new process per call`,
      summary: [
        `gantry get services: median ${figures.getServicesMedianMs} ms (target ${TARGET_MS} ms; min ${Math.round(Math.min(...get))}, max ${Math.round(Math.max(...get))})`,
        `gantry version:      median ${figures.versionMedianMs} ms`,
        `node -e 0:           median ${figures.nodeStartMedianMs} ms (Node's own start on this machine)`,
      ],
      figures,
      charts: [],
      violations: [],
    };
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
