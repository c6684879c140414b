// `gantry sim`: thousands of hollow nodes (the real agent on a fake driver) in one process, to
// load the control plane without Docker hosts. With --embedded it also runs the server. See
// src/sim/README.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { Logger } from 'pino';
import { UsageError } from '../core/index.js';
import type { HollowNodes, HollowProgress } from '../sim/index.js';
import type { CliContext } from './context.js';
import { packageVersion } from './version-info.js';
import { globalOptions, resolveCa, resolveDataDir, resolveServer, resolveToken } from './global-options.js';
import { parseCount } from './parse-count.js';
import { durationOption, processLogger } from './process-options.js';
import type { RunningServer } from '../server/index.js';
import { shutdownOnSignals } from './signals.js';

function parseRate(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--failure-rate must be a number from 0 to 1, like 0.001, not "${text}"`);
  return n;
}

function atLeastOne(text: string, what: string): number {
  const n = parseCount(text, what);
  if (n < 1) throw new UsageError(`${what} must be at least 1`);
  return n;
}

/** Thousands of agents logging every registration drown the output: warn unless asked for more. */
function agentLogger(ctx: CliContext, logger: Logger): Logger {
  return ctx.env.GANTRY_LOG_LEVEL ? logger : logger.child({}, { level: 'warn' });
}

const progressLine = (p: HollowProgress): string =>
  `registered ${p.registered}/${p.total} nodes (${p.started} joined and started, ${(p.elapsedMs / 1000).toFixed(1)}s; joins took ${(p.joinMs / Math.max(1, p.started)).toFixed(1)} ms each on average)\n`;

export function simCommand(ctx: CliContext) {
  return new Command('sim')
    .description('run N hollow nodes (real agents on a fake driver) in one process to load a server; each joins with the join token (GANTRY_TOKEN or --token-file; gantry token create --join --uses N)')
    .requiredOption('--nodes <n>', 'number of hollow nodes')
    .option('--racks <n>', 'label rack=r<i mod n>', '10')
    .option('--pools <weights>', 'weights of the pool label, e.g. web=0.8,batch=0.2')
    .option('--capacity <list>', 'capacity of each node, e.g. cpu=32,memory=128Gi')
    .option('--start-latency <duration>', 'how long each container start takes, e.g. 50ms', '0ms')
    .option('--failure-rate <p>', 'chance from 0 to 1 that a container start fails', '0')
    .option('--name-prefix <prefix>', 'node names are <prefix>-0000, <prefix>-0001, ...', 'hollow')
    .option('--seed <n>', 'seed of pools and start failures (same seed, same cluster)', '1')
    .option('--ramp <n>', 'agents started per wave; the next wave waits until these registered (default 200)')
    .option('--heartbeat-interval <duration>', 'heartbeat interval of every agent', '5s')
    .option('--embedded', 'also run a server in this process (data in --data-dir if given, else a temporary directory)')
    .option('--listen <host:port>', 'API address of the --embedded server', '127.0.0.1:0')
    .option('--log-file', 'log to <data dir>/gantry.log instead of stderr')
    .option('--log-format <format>', 'json, or pretty (readable lines; the default on a terminal)')
    .action(async (opts, cmd) => {
      // Loaded here, not at the top: the other commands start without the agent's modules.
      const { DEFAULT_CAPACITY, DEFAULT_POOLS, DEFAULT_RAMP, fdBudgetWarning, formatMemoryReport, openFileLimit, parseCapacity, parsePoolWeights, sampleMemory, startHollowNodes } = await import(
        '../sim/index.js'
      );
      const g = globalOptions(cmd);
      const nodes = atLeastOne(opts.nodes, '--nodes');
      const racks = atLeastOne(opts.racks, '--racks');
      const ramp = opts.ramp !== undefined ? atLeastOne(opts.ramp, '--ramp') : DEFAULT_RAMP;
      const seed = parseCount(opts.seed, '--seed');
      const pools = opts.pools ? parsePoolWeights(opts.pools) : DEFAULT_POOLS;
      const capacity = opts.capacity ? parseCapacity(opts.capacity) : DEFAULT_CAPACITY;
      const startLatencyMs = durationOption(opts.startLatency, '--start-latency');
      const heartbeatIntervalMs = durationOption(opts.heartbeatInterval, '--heartbeat-interval');
      const failureRate = parseRate(opts.failureRate);
      if (heartbeatIntervalMs === 0) throw new UsageError('--heartbeat-interval must be above 0, e.g. 5s');

      const fdWarning = fdBudgetWarning(nodes, Boolean(opts.embedded), openFileLimit());
      if (fdWarning) ctx.stderr(`warning: ${fdWarning}\n`);
      // Only an explicit --data-dir: a simulation must not fill the user's real ~/.gantry with hollow nodes.
      const tempDir = opts.embedded && !g.dataDir ? await mkdtemp(join(tmpdir(), 'gantry-sim-')) : undefined;
      const dataDir = tempDir ?? resolveDataDir(ctx, g);
      const logger = await processLogger(ctx, dataDir, opts);
      const stop = shutdownOnSignals();
      let server: RunningServer | undefined;
      try {
        let url: string;
        let joinToken: string;
        let ca: string | undefined;
        if (opts.embedded) {
          // Loaded here: the other commands start without the server's modules.
          const { startServer } = await import('../server/index.js');
          server = await startServer({ dataDir, listen: opts.listen, logger, version: packageVersion() });
          url = server.url;
          ca = server.tls?.ca.certPem;
          // Its hollow nodes join like any node's agent: a join token with a use for each, made here as the administrator.
          const admin = ctx.connect({ server: url, token: server.adminToken, ca });
          joinToken = (await admin.createJoinToken({ uses: nodes, ttlSeconds: 3600 })).token;
          ctx.stdout(
            [
              `Gantry server (embedded) at ${url}, data in ${dataDir}${tempDir ? ' (removed on exit)' : ''}`,
              `  admin token: ${join(dataDir, 'admin.token')}`,
              `  try:         GANTRY_ADDR=${url} GANTRY_HOME=${dataDir} bin/gantry get nodes`,
              '',
            ].join('\n'),
          );
        } else {
          url = resolveServer(ctx, g);
          joinToken = await resolveToken(ctx, g, 'join.token');
          // The CA is pinned to the join token's fingerprint; an explicit --ca or GANTRY_CA must be that one.
          ca = g.ca !== undefined || ctx.env.GANTRY_CA ? await resolveCa(ctx, g) : undefined;
        }
        ctx.stderr(`starting ${nodes} hollow nodes against ${url} in waves of ${ramp}; stop with Ctrl-C\n`);
        const before = sampleMemory();
        const hollow = startHollowNodes(
          { server: url, ca, joinToken, nodes, racks, pools, capacity, startLatencyMs, failureRate, namePrefix: opts.namePrefix, seed, ramp, heartbeatIntervalMs, logger: agentLogger(ctx, logger), onProgress: (p) => ctx.stderr(progressLine(p)) },
          stop.signal,
        );
        const t0 = Date.now();
        try {
          await hollow.ready;
          const after = sampleMemory();
          ctx.stdout(`${nodes} hollow nodes registered in ${((Date.now() - t0) / 1000).toFixed(1)}s; ${formatMemoryReport(before, after, nodes)}\n`);
          const logUrl = hollow.logUrl();
          if (logUrl) ctx.stderr(`container logs of all hollow nodes are served at ${logUrl}/nodes/<node> (gantry logs works for their instances)\n`);
          // The simulator's own lag, so a late heartbeat says whether the server or the sim was slow.
          const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
          loop.enable();
          const lag = setInterval(() => ctx.stdout(`${heartbeatDelayLine(hollow)}; ${loopDelayText(loop)}\n`), HEARTBEAT_DELAY_REPORT_MS);
          try {
            await new Promise<void>((resolve) => {
              if (stop.signal.aborted) return resolve();
              stop.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          } finally {
            clearInterval(lag);
            loop.disable();
          }
        } catch (e) {
          // Ctrl-C during the ramp is a normal way to stop.
          if (!stop.signal.aborted) throw e;
        } finally {
          ctx.stderr(`stopping ${hollow.registeredCount()} hollow nodes\n`);
          await hollow.stop();
        }
      } finally {
        await server?.close();
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
        stop.dispose();
        logger.flush();
      }
    });
}

/** How often the sim prints its heartbeat send delay. */
const HEARTBEAT_DELAY_REPORT_MS = 10_000;

/** Sampling resolution of the sim's event-loop delay histogram, ms (subtracted from what it reports). */
const LOOP_RESOLUTION_MS = 10;

/**
 * `event loop delay p99 12 ms, max 840 ms`: how late the sim's own event loop ran since the last
 * report (then reset). Queued heartbeats are the gate's; a loop that runs late delays everything,
 * reading the server's answers included.
 */
function loopDelayText(h: IntervalHistogram): string {
  const ms = (ns: number): number => Math.round(Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS));
  const text = h.count === 0 ? 'event loop delay: no samples' : `event loop delay p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`;
  h.reset();
  return text;
}

/** `heartbeat send delay: p50 0 ms, p99 12.5 ms, max 40 ms (last 4096 heartbeats)`: waits in the sim's request gate. */
function heartbeatDelayLine(hollow: HollowNodes): string {
  const [p50, p99, max] = [50, 99, 100].map((p) => hollow.heartbeatDelay(p));
  if (!p50 || !p99 || !max) return 'heartbeat send delay: no heartbeats yet';
  const ms = (v: number): string => `${Math.round(v * 10) / 10} ms`;
  return `heartbeat send delay: p50 ${ms(p50.ms)}, p99 ${ms(p99.ms)}, max ${ms(max.ms)} (last ${max.samples} heartbeats)`;
}
