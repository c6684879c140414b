// `gantry server`: the control plane alone; agents on other hosts join it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
import { HEARTBEAT_RATE_RANGE, isHeartbeatRate, MAX_HEARTBEATS_PER_SECOND } from '../runtime/heartbeat-pace.js';
import type { CliContext } from './context.js';
import { packageVersion } from './version-info.js';
import { parseDnsTtl } from './discovery-options.js';
import { globalOptions, resolveDataDir } from './global-options.js';
import { lbLine, parseLbFlags } from './lb-options.js';
import { parseTlsFlags } from './tls-options.js';
import { durationOption, processLogger } from './process-options.js';
import { shutdownOnSignals } from './signals.js';

/**
 * How an agent joins: a join token made here (one use, one hour), handed to the agent through
 * GANTRY_TOKEN or --token-file, never the command line (ps and /proc show it to every local user).
 * An agent on another host must also listen beyond loopback, at its address, or the server cannot
 * reach it for logs.
 */
export function agentJoinHint(serverUrl: string, otherHosts: boolean): string[] {
  const remote = otherHosts ? ' --address <agent-host-address> --agent-listen <agent-host-address>:7071 --publish-address <agent-host-address>' : '';
  return ['gantry token create --join > join.token        # here; one node, one hour (--uses, --ttl)', `GANTRY_TOKEN=$(cat join.token) gantry agent --join ${serverUrl}${remote}`];
}

export function serverCommand(ctx: CliContext) {
  return new Command('server')
    .description('run the control plane (API, store, controllers); agents join with `gantry agent`')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:7070')
    .option('--tls-san <list>', "extra DNS names and IP addresses for the server certificate, comma-separated (the names agents and clients use)")
    .option('--no-tls', 'serve the API in plain HTTP (refused on a non-loopback --listen without --insecure)')
    .option('--insecure', 'with --no-tls: allow plain HTTP on a non-loopback address (a warning at every start)')
    .option('--node-grace-period <duration>', 'a node silent this long is marked not ready', '15s')
    .option('--node-startup-grace <duration>', 'after a start, a node not heard from yet is marked not ready only this long after it (agents must reconnect first)', '60s')
    .option('--max-heartbeats-per-second <n>', 'big clusters: agents are asked to heartbeat less often so that all together send about this many a second (whole seconds, at least 5 s apart); a node may then stay silent longer before it is marked not ready; on etcd every server uses the rate of the leader', String(MAX_HEARTBEATS_PER_SECOND))
    .option('--auto-uid-range <first-last>', 'uids for containers with runAsUser: auto, one per instance on its node', '100000-165535')
    .option('--event-ttl <duration>', 'events are deleted this long after their last occurrence', '1h')
    .option('--max-events <count>', 'at most this many events are kept (the oldest go first), and at most 100 per object', '200000')
    .option('--dns-listen <list>', "where Gantry's DNS answers (UDP and TCP): host:port[,host:port], or off", 'off')
    .option('--dns-ttl <seconds>', 'TTL of DNS answers', '1')
    .option('--lb', 'run the HAProxy load balancer for spec.expose (off by default here)')
    .option('--no-lb', 'run no load balancer')
    .option('--lb-address <ip>', 'where the load balancer binds service ports', '127.0.0.1')
    .option('--lb-http-port <port>', 'the shared HTTP port for spec.expose hostnames (turns the load balancer on)')
    .option('--store <backend>', 'where objects live: sqlite (the data dir, one server) or etcd (several servers, docs/ha.md)', 'sqlite')
    .option('--etcd-endpoints <urls>', 'with --store etcd: client URLs, comma-separated, like https://10.0.0.1:2379,https://10.0.0.2:2379')
    .option('--etcd-ca <file>', "with --store etcd: the CA certificate etcd's certificate is checked against")
    .option('--etcd-cert <file>', 'with --store etcd: this server\'s client certificate for etcd (clientAuth)')
    .option('--etcd-key <file>', 'with --store etcd: the key of --etcd-cert')
    .option('--etcd-prefix <prefix>', 'with --store etcd: the key prefix of this cluster', '/gantry/')
    .option('--log-file', 'log to <data dir>/gantry.log instead of stderr')
    .option('--log-format <format>', 'json, or pretty (readable lines; the default on a terminal)')
    .action(async (opts, cmd) => {
      // Loaded here, not at the top: the other commands start without the server's and agent's modules.
      const { parseDnsListen, parseListen, startServer, urlOf } = await import('../server/index.js');
      const dataDir = resolveDataDir(ctx, globalOptions(cmd));
      const { host, port } = parseListen(opts.listen);
      const dnsListen = parseDnsListen(opts.dnsListen);
      const dnsTtl = parseDnsTtl(opts.dnsTtl);
      const nodeGracePeriodMs = durationOption(opts.nodeGracePeriod, '--node-grace-period');
      const nodeStartupGraceMs = durationOption(opts.nodeStartupGrace, '--node-startup-grace');
      const autoUidRange = parseUidRange(opts.autoUidRange);
      const maxHeartbeatsPerSecond = parseMaxHeartbeats(opts.maxHeartbeatsPerSecond);
      const eventRetention = parseEventRetention(opts.eventTtl, opts.maxEvents);
      const lb = parseLbFlags(opts, false);
      const tls = parseTlsFlags(opts);
      const etcd = await parseStoreFlags(opts);
      const logger = await processLogger(ctx, dataDir, opts);
      const stop = shutdownOnSignals();
      try {
        const server = await startServer({ dataDir, listen: opts.listen, logger, version: packageVersion(), nodeGracePeriodMs, nodeStartupGraceMs, maxHeartbeatsPerSecond, autoUidRange, eventRetention, dnsListen, dnsTtl, lb, ...tls, ...(etcd ? { etcd } : {}) });
        const otherHosts = host === '0.0.0.0' || host === '::';
        const reachable = otherHosts ? urlOf('<this-host-address>', port, server.tls ? 'https' : 'http') : server.url;
        ctx.stdout(
          [
            `Gantry server listening on ${server.url} (data in ${dataDir}${etcd ? `, objects in etcd ${etcd.endpoints.join(',')} under ${etcd.prefix}` : ''})`,
            `Admin token: ${join(dataDir, 'admin.token')}`,
            `Console: ${reachable}/ (sign in with a token)`,
            ...(server.tls ? [`CA: ${join(dataDir, 'tls', 'ca.crt')} (sha256 ${server.tls.caFingerprint}); copy it to agents and clients, who pass --ca <file>`] : []),
            ...(server.dnsAddresses.length > 0 ? [`DNS: ${server.dnsAddresses.map((a) => `${a.host}:${a.port}`).join(', ')}`] : []),
            ...(lb ? [`Load balancer: ${lbLine(server.lb)}`] : []),
            'Agents join with:',
            ...agentJoinHint(reachable, otherHosts).map((line) => `  ${line}`),
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
        logger.info('shutting down');
        await server.close();
      } finally {
        stop.dispose();
        logger.flush();
      }
    });
}

const ETCD_ENDPOINT = /^https?:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;
const ETCD_PREFIX = /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/;

/** --store and the --etcd-* flags: undefined for sqlite; the endpoints, TLS files read, and prefix for etcd. */
/** The --store and --etcd-* flags as commander hands them over. */
export interface StoreFlags {
  store: string;
  etcdEndpoints?: string | undefined;
  etcdCa?: string | undefined;
  etcdCert?: string | undefined;
  etcdKey?: string | undefined;
  etcdPrefix: string;
}

export async function parseStoreFlags(opts: StoreFlags): Promise<
  { endpoints: string[]; tls?: { ca: string; cert: string; key: string }; prefix: string } | undefined
> {
  if (opts.store === 'sqlite') {
    const stray = (['etcdEndpoints', 'etcdCa', 'etcdCert', 'etcdKey'] as const).find((k) => opts[k] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --store etcd`);
    return undefined;
  }
  if (opts.store !== 'etcd') throw new UsageError(`--store must be sqlite or etcd, not "${opts.store}"`);
  const endpoints = (opts.etcdEndpoints ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 0) throw new UsageError('--store etcd needs --etcd-endpoints, like https://127.0.0.1:2379');
  const bad = endpoints.find((e) => !ETCD_ENDPOINT.test(e));
  if (bad) throw new UsageError(`--etcd-endpoints: "${bad}" is not a URL like https://10.0.0.1:2379`);
  if (!ETCD_PREFIX.test(opts.etcdPrefix)) throw new UsageError(`--etcd-prefix must look like /gantry/ (letters, digits, . _ - between slashes), not "${opts.etcdPrefix}"`);
  const https = endpoints.filter((e) => e.startsWith('https://'));
  if (https.length !== 0 && https.length !== endpoints.length) throw new UsageError('--etcd-endpoints: use https:// for all of them or none');
  if (https.length === 0) return { endpoints, prefix: opts.etcdPrefix };
  const missing = (['etcdCa', 'etcdCert', 'etcdKey'] as const).filter((k) => !opts[k]);
  if (missing.length > 0) throw new UsageError(`https etcd endpoints need ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} (etcd runs with --client-cert-auth; docs/ha.md)`);
  const read = async (flag: string, file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${flag} ${file}: ${(e as Error).message}`);
    }
  };
  const tls = { ca: await read('--etcd-ca', opts.etcdCa as string), cert: await read('--etcd-cert', opts.etcdCert as string), key: await read('--etcd-key', opts.etcdKey as string) };
  return { endpoints, tls, prefix: opts.etcdPrefix };
}

/** --event-ttl and --max-events: at least a minute, and at least 1,000 events (describe needs some). */
export function parseEventRetention(ttlText: string, maxText: string): { maxAgeMs: number; maxCount: number } {
  const maxAgeMs = durationOption(ttlText, '--event-ttl')!;
  if (maxAgeMs < 60_000) throw new UsageError(`--event-ttl must be at least 1m (events aggregate over 10m), not "${ttlText}"`);
  const maxCount = /^[0-9]{1,9}$/.test(maxText.trim()) ? Number(maxText) : NaN;
  if (!(maxCount >= 1000)) throw new UsageError(`--max-events must be a whole number of at least 1000, like 200000, not "${maxText}"`);
  return { maxAgeMs, maxCount };
}

/** --max-heartbeats-per-second: a whole number from 10 to 100,000. */
export function parseMaxHeartbeats(text: string): number {
  const n = /^[0-9]{1,6}$/.test(text.trim()) ? Number(text) : NaN;
  if (!isHeartbeatRate(n)) {
    throw new UsageError(`--max-heartbeats-per-second must be a whole number from ${HEARTBEAT_RATE_RANGE.min} to ${HEARTBEAT_RATE_RANGE.max}, like ${MAX_HEARTBEATS_PER_SECOND}, not "${text}"`);
  }
  return n;
}

/** --auto-uid-range `first-last`: uids above the system's (1-2147483647), at least one. */
export function parseUidRange(text: string): { first: number; last: number } {
  const m = /^([0-9]{1,10})-([0-9]{1,10})$/.exec(text.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 2_147_483_647 || last < first) {
    throw new UsageError(`--auto-uid-range must be first-last with 1 <= first <= last <= 2147483647, like 100000-165535, not "${text}"`);
  }
  return { first, last };
}
