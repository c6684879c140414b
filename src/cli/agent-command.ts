// `gantry agent`: runs this host's containers for a Gantry server.
import { Command } from '@commander-js/extra-typings';
import { parseAddressOption, parseDriverKind, parseRobustnessOptions } from './agent-options.js';
import type { CliContext } from './context.js';
import { parseContainerDns } from './discovery-options.js';
import { globalOptions, resolveCa, resolveDataDir, resolveServer, resolveToken } from './global-options.js';
import { nodeNameOption, parseLabelsOption, processLogger } from './process-options.js';
import { shutdownOnSignals } from './signals.js';

export function agentCommand(ctx: CliContext) {
  return new Command('agent')
    .description('run a node agent: register this host and run the instances placed on it (--server, --token: the agent token)')
    .option('--driver <driver>', 'docker or fake', 'docker')
    .option('--name <name>', 'node name (default: the host name)')
    .option('--labels <list>', 'node labels for placement, e.g. rack=a,pool=web')
    .option('--publish-address <ip>', 'host address published container ports bind to', '0.0.0.0')
    .option('--address <ip>', 'address clients use to reach this node (default 127.0.0.1)')
    .option('--agent-listen <host:port>', "address of the agent's log endpoint", '127.0.0.1:0')
    .option('--port-range <first-last>', 'host ports for published container ports', '20000-29999')
    .option('--dns-for-containers <ip>', "containers' name server (where Gantry's DNS answers on port 53); search domain <namespace>.gantry")
    .option('--log-file', 'log to <data dir>/gantry.log instead of stderr')
    .option('--log-format <format>', 'json, or pretty (readable lines; the default on a terminal)')
    .option('--max-container-ops <n>', 'cap on container creates, starts and removals per second on this node (default 10)')
    .option('--dead-container-ttl <duration>', 'how long dead containers stay for their logs before removal (default 1h)')
    .option('--heartbeat-interval <duration>', "how often the agent tells the server it is alive (default 5s); keep services' lostAfter a few of these")
    .action(async (opts, cmd) => {
      // Loaded here, not at the top: the other commands start without the server's and agent's modules.
      const { DRIVER_KINDS, parsePortRange, runNodeAgent } = await import('../agent/agent-root.js');
      const g = globalOptions(cmd);
      const portRange = parsePortRange(opts.portRange);
      const containerDns = parseContainerDns(opts.dnsForContainers);
      const dataDir = resolveDataDir(ctx, g);
      const driver = parseDriverKind(opts.driver, DRIVER_KINDS);
      const labels = parseLabelsOption(opts.labels);
      const robustness = parseRobustnessOptions(opts);
      const address = parseAddressOption(opts.address);
      const nodeName = nodeNameOption(opts.name);
      const server = resolveServer(ctx, g);
      const agentToken = await resolveToken(ctx, g, 'agent.token');
      const logger = await processLogger(ctx, dataDir, opts);
      const client = ctx.connect({ server, token: agentToken, ca: await resolveCa(ctx, g) });
      const stop = shutdownOnSignals();
      try {
        ctx.stderr(`Gantry agent for node "${nodeName}" (${driver} driver) joining ${server}; stop with Ctrl-C.\n`);
        await runNodeAgent(
          { client, agentToken, driver, nodeName, labels, publishAddress: opts.publishAddress, address, agentListen: opts.agentListen, logger, ...robustness, portRange, containerDns },
          stop.signal,
        );
      } finally {
        stop.dispose();
        logger.flush();
      }
    });
}
