// `gantry server`: the control plane alone; agents on other hosts join it.
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
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
    .option('--auto-uid-range <first-last>', 'uids for containers with runAsUser: auto, one per instance on its node', '100000-165535')
    .option('--dns-listen <list>', "where Gantry's DNS answers (UDP and TCP): host:port[,host:port], or off", 'off')
    .option('--dns-ttl <seconds>', 'TTL of DNS answers', '1')
    .option('--lb', 'run the HAProxy load balancer for spec.expose (off by default here)')
    .option('--no-lb', 'run no load balancer')
    .option('--lb-address <ip>', 'where the load balancer binds service ports', '127.0.0.1')
    .option('--lb-http-port <port>', 'the shared HTTP port for spec.expose hostnames (turns the load balancer on)')
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
      const autoUidRange = parseUidRange(opts.autoUidRange);
      const lb = parseLbFlags(opts, false);
      const tls = parseTlsFlags(opts);
      const logger = await processLogger(ctx, dataDir, opts);
      const stop = shutdownOnSignals();
      try {
        const server = await startServer({ dataDir, listen: opts.listen, logger, version: packageVersion(), nodeGracePeriodMs, autoUidRange, dnsListen, dnsTtl, lb, ...tls });
        const otherHosts = host === '0.0.0.0' || host === '::';
        const reachable = otherHosts ? urlOf('<this-host-address>', port, server.tls ? 'https' : 'http') : server.url;
        ctx.stdout(
          [
            `Gantry server listening on ${server.url} (data in ${dataDir})`,
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
