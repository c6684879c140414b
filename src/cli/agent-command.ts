// `gantry agent`: runs this host's containers for a Gantry server.
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
import { parseAddressOption, parseDriverKind, parseRobustnessOptions } from './agent-options.js';
import type { CliContext } from './context.js';
import { parseContainerDns } from './discovery-options.js';
import { globalOptions, resolveDataDir, resolveToken } from './global-options.js';
import { nodeNameOption, parseLabelsOption, processLogger } from './process-options.js';
import { freePort } from './free-port.js';
import { shutdownOnSignals } from './signals.js';


export function agentCommand(ctx: CliContext) {
  return new Command('agent')
    .description('run a node agent: join a cluster once (--join SERVER with a join token), then run the instances placed on this host')
    .option('--join <server>', 'join the cluster at SERVER (or several servers of it, comma-separated: the agent fails over between them) with a join token (--token-file or GANTRY_TOKEN; gantry token create --join); later starts use <data dir>/node/ without it')
    .option('--driver <driver>', 'docker or fake', 'docker')
    .option('--name <name>', 'node name (default: the host name)')
    .option('--labels <list>', 'node labels for placement, e.g. rack=a,pool=web')
    .option('--publish-address <ip>', 'host address published container ports bind to (default: the node address, 127.0.0.1 when none; 0.0.0.0 binds every interface)')
    .option('--address <ip>', 'address clients use to reach this node (default 127.0.0.1)')
    .option('--agent-listen <host:port>', "address of the agent's log endpoint", '127.0.0.1:0')
    .option('--port-range <first-last>', 'host ports for published container ports', '20000-29999')
    .option('--dns-for-containers <ip>', "containers' name server (where Gantry's DNS answers on port 53); search domain <namespace>.gantry")
    .option('--log-file', 'log to <data dir>/gantry.log instead of stderr')
    .option('--log-format <format>', 'json, or pretty (readable lines; the default on a terminal)')
    .option('--max-container-ops <n>', 'cap on container launches, restarts and removals per second on this node (default 10)')
    .option('--dead-container-ttl <duration>', 'how long dead containers stay for their logs before removal (default 1h)')
    .option('--heartbeat-interval <duration>', "how often the agent tells the server it is alive (default 5s); keep services' lostAfter a few of these")
    .option('--stats-interval <duration>', 'how often container usage is sampled for gantry top, the stats API and /metrics (default 10s; 0s: off)')
    .option('--reserved-cores <list>', 'cores kept for the host, never pinned for cpuMode cpuset containers, e.g. 0 or 0-1 (default none)')
    .option('--exec-max-sessions <n>', 'exec sessions open at once on this node (default 32)')
    .option('--exec-idle-timeout <duration>', 'an exec session with no input or output this long ends (default 30m)')
    .option('--pressure <list>', 'node health thresholds: disk=10%,inodes=5% (free), memory=5% (available), pids=90% (used), ping=5s (docker); a node under pressure gets no new instances')
    .action(async (opts, cmd) => {
      // Loaded here, not at the top: the other commands start without the server's and agent's modules.
      const { DRIVER_KINDS, identityDir, joinAsNode, loadIdentity, parseListen, parsePortRange, parsePressureThresholds, runNodeAgent, saveIdentity } = await import('../agent/agent-root.js');
      const g = globalOptions(cmd);
      const portRange = parsePortRange(opts.portRange);
      const containerDns = parseContainerDns(opts.dnsForContainers);
      const dataDir = resolveDataDir(ctx, g);
      const driver = parseDriverKind(opts.driver, DRIVER_KINDS);
      const labels = parseLabelsOption(opts.labels);
      const robustness = parseRobustnessOptions(opts);
      const pressure = { thresholds: parsePressureThresholds(opts.pressure), paths: [dataDir] };
      const address = parseAddressOption(opts.address);
      const logger = await processLogger(ctx, dataDir, opts);
      const stateDir = identityDir(dataDir);
      let identity = await loadIdentity(stateDir);
      if (opts.join !== undefined) {
        if (identity) {
          throw new UsageError(`this host has joined already as node ${identity.node} (${stateDir}); start without --join, or run gantry node revoke ${identity.node}, remove ${stateDir} and join again`);
        }
        const listen = parseListen(opts.agentListen);
        const agentPort = listen.port || (await freePort(listen.host));
        const joinToken = await resolveToken(ctx, g, 'join.token');
        // --join a,b,c (several servers of one cluster): join through the first, remember them all.
        const servers = opts.join.split(',').map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u !== '');
        identity = await joinAsNode({ server: servers[0] ?? '', joinToken, node: nodeNameOption(opts.name), address: address ?? '127.0.0.1', agentPort, labels });
        identity = { ...identity, server: servers.join(',') };
        await saveIdentity(stateDir, identity);
        ctx.stderr(`Joined ${identity.server} as node "${identity.node}" (address ${identity.address}, agent port ${identity.agentPort}); its credential is in ${stateDir}.\n`);
      }
      // A host runs as its node, with the credential of its join: there is no shared agent token.
      if (!identity) {
        throw new UsageError(
          `this host has not joined a cluster (no node credential in ${stateDir}): join once with gantry agent --join https://SERVER:7070 and a join token in GANTRY_TOKEN or --token-file (an administrator makes one: gantry token create --join)`,
        );
      }
      // Its labels were set at join: afterwards an administrator changes them (gantry apply).
      const nodeName = identity.node;
      // --server a,b,c replaces the servers remembered at join (a cluster that grew or moved).
      const server = g.server ?? identity.server;
      const agentToken = identity.endpointToken;
      const agentListen = `${parseListen(opts.agentListen).host}:${identity.agentPort}`;
      // A joined host trusts exactly the CA it pinned at join.
      const client = ctx.connect({ server, token: identity.credential, ca: identity.caPem });
      // A joined agent serves its endpoint over HTTPS with the certificate issued at join.
      const endpointTls = identity.certPem && identity.keyPem ? { cert: identity.certPem, key: identity.keyPem, ca: identity.caPem } : undefined;
      const stop = shutdownOnSignals();
      try {
        ctx.stderr(`Gantry agent for node "${nodeName}" (${driver} driver) joining ${server}; stop with Ctrl-C.\n`);
        await runNodeAgent(
          { client, agentToken, endpointTls, driver, nodeName, labels: {}, publishAddress: opts.publishAddress ?? identity.address, address: identity.address, agentListen, logger, ...robustness, pressure, portRange, containerDns },
          stop.signal,
        );
      } finally {
        stop.dispose();
        logger.flush();
      }
    });
}
