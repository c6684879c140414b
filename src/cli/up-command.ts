// `gantry up`: the single-machine cloud. Server and one local Docker agent in one process, data in
// the data dir. Ctrl-C stops Gantry; the containers keep running and are adopted on the next `up`.
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { parseAddressOption, parseDriverKind, parseRobustnessOptions } from './agent-options.js';
import type { CliContext } from './context.js';
import { packageVersion } from './version-info.js';
import { containerDnsProblem, parseContainerDns, parseDnsTtl } from './discovery-options.js';
import { globalOptions, resolveDataDir } from './global-options.js';
import { parseTlsFlags } from './tls-options.js';
import { lbLine, parseLbFlags } from './lb-options.js';
import { nodeNameOption, parseLabelsOption, processLogger } from './process-options.js';
import { freePort } from './free-port.js';
import { shutdownOnSignals } from './signals.js';
import { UsageError } from '../core/index.js';
import type { RunningServer } from '../server/index.js';

export function upCommand(ctx: CliContext) {
  return new Command('up')
    .description('run the server and a local Docker agent in one process')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:7070')
    .option('--tls-san <list>', 'extra DNS names and IP addresses for the server certificate, comma-separated')
    .option('--no-tls', 'serve the API in plain HTTP (refused on a non-loopback --listen without --insecure)')
    .option('--insecure', 'with --no-tls: allow plain HTTP on a non-loopback address (a warning at every start)')
    .option('--publish-address <ip>', 'host address published container ports bind to (0.0.0.0: every interface)', '127.0.0.1')
    .option('--address <ip>', 'address clients use to reach published ports (default 127.0.0.1)')
    .option('--name <name>', 'node name (default: the host name)')
    .option('--labels <list>', 'node labels for placement, e.g. rack=a')
    .option('--driver <driver>', 'docker, or fake for a demo without Docker', 'docker')
    .option('--dns-listen <list>', "where Gantry's DNS answers (UDP and TCP): host:port[,host:port], or off", '127.0.0.1:8600')
    .option('--dns-ttl <seconds>', 'TTL of DNS answers', '1')
    .option('--port-range <first-last>', 'host ports for published container ports', '20000-29999')
    .option('--dns-for-containers <ip>', "containers' name server (Gantry's DNS on port 53 there, e.g. 172.17.0.1); search domain <namespace>.gantry")
    .option('--lb-address <ip>', 'where the HAProxy load balancer binds service ports', '127.0.0.1')
    .option('--lb-http-port <port>', 'the shared HTTP port for spec.expose hostnames (default 8080)')
    .option('--no-lb', 'run no load balancer')
    .option('--ha', 'try high availability on this machine: a 3-member etcd and 3 servers on --listen\'s port and the next two (docs/ha.md)')
    .option('--etcd-first-port <port>', 'with --ha: etcd member i listens on this port + 2i (clients) and + 2i + 1 (peers)', '23790')
    .option('--log-file', 'log to <data dir>/gantry.log instead of stderr')
    .option('--log-format <format>', 'json, or pretty (readable lines; the default on a terminal)')
    .option('--max-container-ops <n>', 'cap on container launches, restarts and removals per second (default 10)')
    .option('--dead-container-ttl <duration>', 'how long dead containers stay for their logs before removal (default 1h)')
    .option('--stats-interval <duration>', 'how often container usage is sampled for gantry top, the stats API and /metrics (default 10s; 0s: off)')
    .option('--reserved-cores <list>', 'cores kept for the host, never pinned for cpuMode cpuset containers, e.g. 0 or 0-1 (default none)')
    .option('--exec-max-sessions <n>', 'exec sessions open at once on this node (default 32)')
    .option('--exec-idle-timeout <duration>', 'an exec session with no input or output this long ends (default 30m)')
    .option('--pressure <list>', 'node health thresholds: disk=10%,inodes=5% (free), memory=5% (available), pids=90% (used), ping=5s (docker); a node under pressure gets no new instances')
    .action(async (opts, cmd) => {
      // Loaded here, not at the top: the other commands start without the server's and agent's modules.
      const { DRIVER_KINDS, parsePortRange, parsePressureThresholds, runNodeAgent } = await import('../agent/agent-root.js');
      const { issueCertificate, parseDnsListen, startHaCluster, startServer } = await import('../server/index.js');
      const dataDir = resolveDataDir(ctx, globalOptions(cmd));
      const dnsListen = parseDnsListen(opts.dnsListen);
      const dnsTtl = parseDnsTtl(opts.dnsTtl);
      const portRange = parsePortRange(opts.portRange);
      const containerDns = parseContainerDns(opts.dnsForContainers);
      const dnsProblem = containerDnsProblem(containerDns, dnsListen);
      const labels = parseLabelsOption(opts.labels);
      const nodeName = nodeNameOption(opts.name);
      const driver = parseDriverKind(opts.driver, DRIVER_KINDS);
      const robustness = parseRobustnessOptions(opts);
      const pressure = { thresholds: parsePressureThresholds(opts.pressure), paths: [dataDir] };
      const address = parseAddressOption(opts.address);
      const lb = parseLbFlags(opts, true);
      const tls = parseTlsFlags(opts);
      const logger = await processLogger(ctx, dataDir, opts);
      const stop = shutdownOnSignals();
      try {
        const serverOpts = { dataDir, listen: opts.listen, logger, version: packageVersion(), dnsListen, dnsTtl, lb, ...tls };
        const ha = opts.ha ? await startHaCluster({ ...serverOpts, etcdFirstPort: parseEtcdFirstPort(opts.etcdFirstPort) }) : undefined;
        const server = ha ? (ha.servers[0] as RunningServer) : await startServer(serverOpts);
        const urls = ha ? ha.servers.map((s) => s.url) : [server.url];
        try {
          const dns = server.dnsAddresses.map((a) => `${a.host}:${a.port}`).join(', ');
          ctx.stdout(
            [
              `Gantry is up at ${server.url} (node "${nodeName}", ${driver} driver, data in ${dataDir})`,
              ...(ha
                ? [
                    `  servers:     ${urls.join(', ')} (one leads the controllers; each serves the API; the others' data in ${join(dataDir, 'ha')})`,
                    `  etcd:        ${ha.etcd.map((m) => m.clientUrl).join(', ')} (3 members, TLS; logs in ${join(dataDir, 'ha', 'etcd-N', 'etcd.log')})`,
                    `  try:         bin/gantry --server ${urls[1]} get nodes     (any server answers)`,
                  ]
                : []),
              `  console:     ${server.url}/ (sign in with the admin token)`,
              `  dns:         ${dns ? `${dns} (names like web.default.gantry)` : 'off'}`,
              ...(dnsProblem ? [`  warning:     ${dnsProblem}`] : []),
              `  lb:          ${lbLine(server.lb)}`,
              `  admin token: ${join(dataDir, 'admin.token')} (bin/gantry reads it from there)`,
              ...(server.tls ? [`  CA:          ${join(dataDir, 'tls', 'ca.crt')} (sha256 ${server.tls.caFingerprint}; bin/gantry trusts it from there)`] : []),
              '  next:        bin/gantry apply -f examples/hello.yaml',
              '               bin/gantry get instances',
              '  stop:        Ctrl-C (containers keep running; the next `up` adopts them)',
              '',
            ].join('\n'),
          );
          // The local agent joins directly (no join token): its own node credential, fixed to its
          // address and agent port like any joined node's.
          const at = address ?? '127.0.0.1';
          const agentPort = await freePort(at);
          const { credential, endpointToken } = await server.joinLocalNode({ name: nodeName, address: at, agentPort, labels });
          // With --ha the agent knows every server and fails over between them.
          const client = ctx.connect({ server: urls.join(','), token: credential, ca: server.tls?.ca.certPem });
          // Its log endpoint: HTTPS with a certificate from the cluster CA, issued here directly;
          // only the server's client certificate gets in.
          const ca = server.tls?.ca;
          const endpoint = ca && (await issueCertificate(ca, { commonName: `gantry-agent:${nodeName}`, sans: ['localhost', '127.0.0.1', '::1', at], usage: 'server' }));
          const endpointTls = ca && endpoint && { cert: endpoint.certPem, key: endpoint.keyPem, ca: ca.certPem };
          await runNodeAgent(
            { client, agentToken: endpointToken, endpointTls, driver, nodeName, labels, publishAddress: opts.publishAddress, address: at, agentListen: `${at}:${agentPort}`, logger, ...robustness, pressure, portRange, containerDns },
            stop.signal,
          );
        } finally {
          logger.info('shutting down');
          if (ha) await ha.close();
          else await server.close();
        }
      } finally {
        stop.dispose();
        logger.flush();
      }
    });
}

/** --etcd-first-port: six ports from it must fit below 65536. */
function parseEtcdFirstPort(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || n < 1024 || n > 65530) throw new UsageError(`--etcd-first-port must be a port from 1024 to 65530 (six ports from it are used), not "${text}"`);
  return n;
}
