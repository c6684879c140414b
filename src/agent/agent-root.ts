// Composition root of a node, and the agent folder's entry point for the CLI: builds the driver
// and the Agent and runs them until the signal aborts. Used by `gantry agent` and `gantry up`
// (src/cli parses the flags). Containers keep running when it returns; the next agent on this node
// adopts them.
//
// Shutdown order, one and fixed, when `signal` aborts (Agent.run, then here):
//   1. stop accepting: the agent stops taking new work (the instance watch ends) and its log
//      endpoint closes;
//   2. stop the loops: runners detach from their containers (which keep running), registration,
//      heartbeats and the runtime monitor end;
//   3. drain: the last instance status and events are sent;
//   4. close the driver (Docker's connection), here, after Agent.run has returned.
import { detectProcViews } from '../drivers/docker/proc-views.js';
import type { Logger } from 'pino';
import { Agent } from './agent.js';
import { hostCpus } from './node/cpuset-allocator.js';
import type { EndpointTls } from './node/agent-server.js';
import type { PressureThresholds } from './node/node-pressure.js';
import { bindProbe, HostPortAllocator, parsePortRange, type PortRange } from './instance/host-ports.js';
import type { GantryClient } from '../client/types.js';
import { DockerDriver } from '../drivers/docker/docker-driver.js';
import type { Driver } from '../drivers/driver.js';
import { FakeDriver } from '../drivers/fake/fake-driver.js';

export const DRIVER_KINDS = ['docker', 'fake'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];

export interface NodeAgentOptions {
  /** A client authenticated with the agent token. */
  client: GantryClient;
  agentToken: string;
  driver: DriverKind;
  nodeName: string;
  labels: Record<string, string>;
  /** Host address published container ports bind to (docker driver). */
  publishAddress: string;
  /** How clients reach this node's ports; the agent defaults to 127.0.0.1. */
  address?: string | undefined;
  agentListen?: string | undefined;
  /**
   * The log endpoint's serving certificate and key (from the cluster CA, for this node's address)
   * and the CA: the endpoint is then HTTPS and answers the server's client certificate only.
   */
  endpointTls?: EndpointTls | undefined;
  logger: Logger;
  /** Host ports for published ports; default 20000-29999. */
  portRange?: PortRange | undefined;
  /** Name servers for containers' resolv.conf (--dns-for-containers). */
  containerDns?: readonly string[] | undefined;
  /** --max-container-ops: container launches (create and first start), restarts and removals per second; default 10. */
  maxContainerOps?: number | undefined;
  /** --dead-container-ttl: how long dead containers stay for their logs; default 1 h. */
  deadContainerTtlMs?: number | undefined;
  /** --heartbeat-interval: default 5 s; a service's lostAfter should be a few of these. */
  heartbeatIntervalMs?: number | undefined;
  /** --pressure thresholds and the paths whose disks count (the data dir); docker driver only. */
  pressure?: { thresholds: PressureThresholds; paths: readonly string[] } | undefined;
  /** --stats-interval; default 10 s. */
  statsIntervalMs?: number | undefined;
  /** --exec-max-sessions, --exec-idle-timeout. */
  exec?: { maxSessions?: number; idleTimeoutMs?: number } | undefined;
  /** --reserved-cores: never pinned for cpuMode cpuset. */
  reservedCores?: readonly number[] | undefined;
}

export async function runNodeAgent(opts: NodeAgentOptions, signal: AbortSignal): Promise<void> {
  const { clusterId } = await opts.client.version();
  const procViews = opts.driver === 'docker' ? await detectProcViews() : [];
  const driver: Driver =
    opts.driver === 'docker'
      ? new DockerDriver({ clusterId, nodeName: opts.nodeName, publishAddress: opts.publishAddress, logger: opts.logger, procViews })
      : new FakeDriver({ nodeName: opts.nodeName });
  // Docker: a bind test on the publish address skips ports something else on the host holds. The
  // fake driver binds nothing, and hollow nodes must not pay for bind tests.
  const hostPorts = new HostPortAllocator({ range: opts.portRange, probe: opts.driver === 'docker' ? bindProbe(opts.publishAddress) : undefined });
  const agent = new Agent({
    hostPorts,
    containerDns: opts.containerDns,
    client: opts.client,
    driver,
    nodeName: opts.nodeName,
    labels: opts.labels,
    address: opts.address,
    agentListen: opts.agentListen,
    endpointTls: opts.endpointTls,
    agentToken: opts.agentToken,
    logger: opts.logger,
    maxContainerOpsPerSecond: opts.maxContainerOps,
    deadContainerTtlMs: opts.deadContainerTtlMs,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    // The fake driver has no host of its own to judge.
    pressure: opts.driver === 'docker' ? opts.pressure : undefined,
    exec: opts.exec,
    statsIntervalMs: opts.statsIntervalMs,
    // Docker: the cores its cgroup lets containers use; the fake driver: as many as it claims.
    cpus: opts.driver === 'docker' ? await hostCpus() : undefined,
    reservedCores: opts.reservedCores,
    procViews: opts.driver === 'docker' ? procViews.length > 0 : undefined,
  });
  opts.logger.info({ node: opts.nodeName, driver: opts.driver, clusterId, server: opts.client.server }, 'gantry agent starting');
  try {
    await agent.run(signal);
  } finally {
    await driver.close();
  }
}

/** For the CLI's --port-range flag (the agent folder's one entry point). */
export { parsePortRange, type PortRange };

/** A joined node's identity (the CLI's `gantry agent --join`, and later starts). */
export { identityDir, joinAsNode, loadIdentity, saveIdentity, type NodeIdentity } from './node-identity.js';
export { parseListen } from './node/agent-server.js';
export { parsePressureThresholds } from './node/node-pressure.js';
export type { EndpointTls } from './node/agent-server.js';
