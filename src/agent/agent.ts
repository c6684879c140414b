// The agent that runs on every Docker host: registers its node, heartbeats, watches the Instances
// bound to it and runs them through a Driver, reporting their status. The composition root of
// src/agent; see README.md for the picture.
import type { Logger } from 'pino';
import { describeError, formatCpuList, sleep, untilAborted, UsageError, type Instance } from '../core/index.js';
import type { ClientWatchEvent, GantryClient } from '../client/types.js';
import type { Driver } from '../drivers/driver.js';
import { AgentServer, type EndpointTls } from './node/agent-server.js';
import { EventReporter } from './node/event-reporter.js';
import { clientFileSource } from './instance/file-gate.js';
import { HostPortAllocator } from './instance/host-ports.js';
import { Informer } from '../runtime/informer.js';
import { FailureStreak } from '../runtime/failure-streak.js';
import { InstanceSupervisor } from './instance-supervisor.js';
import { StatsSampler } from './node/stats-sampler.js';
import { CpusetAllocator } from './node/cpuset-allocator.js';
import { NodeRegistrar } from './node/node-registrar.js';
import { pressureConditions, readHost, responsiveCondition, type PressureThresholds } from './node/node-pressure.js';
import { RateLimitedDriver } from './node/rate-limited-driver.js';
import { RuntimeMonitor } from './node/runtime-monitor.js';
import { TokenBucket } from './node/token-bucket.js';
import type { AgentLogServer } from './node/shared-log-server.js';
import { formatDelay, type BackoffOptions } from './instance/restart-backoff.js';
import { StatusReporter } from './node/status-reporter.js';

export interface AgentOptions {
  client: GantryClient;
  driver: Driver;
  nodeName: string;
  labels: Record<string, string>;
  /** How other hosts and clients reach this node and its published ports; default 127.0.0.1. */
  address?: string | undefined;
  /**
   * host[:port] of the agent's own log endpoint; default 127.0.0.1:0. `false`: no log endpoint and
   * no agent URL (the server's log proxy then answers 503 for this node's instances).
   */
  agentListen?: string | false | undefined;
  /**
   * A log server shared with other agents of this process, owned (listened on and closed) by the
   * caller; the agent attaches to it instead of listening itself, which saves a socket per agent
   * (the hollow nodes of `gantry sim`). Takes precedence over agentListen.
   */
  logServer?: AgentLogServer | undefined;
  /** The log endpoint over HTTPS, answering the server's client certificate only (EndpointTls). */
  endpointTls?: EndpointTls | undefined;
  /** What the server presents to this node's log endpoint: the node's endpoint secret from its join. */
  agentToken: string;
  logger: Logger;
  /** Default 5000. */
  heartbeatIntervalMs?: number | undefined;
  /** Container restart back-off; default 1 s doubling to 5 min. */
  restartBackoff?: BackoffOptions | undefined;
  /**
   * How often every instance re-inspects its containers in case a driver event was missed; default
   * 30000. The driver's events are the fast path; after the event stream fails, every instance
   * re-inspects at once and again when the stream is back, so the gap is covered without waiting.
   */
  inspectIntervalMs?: number | undefined;
  /** Status batching interval; default 250. */
  statusFlushMs?: number | undefined;
  /** Event batching interval; default 1000. */
  eventFlushMs?: number | undefined;
  /** Grace before SIGKILL when stopping containers; default 10. */
  stopGraceSeconds?: number | undefined;
  /** How often labelled containers no instance wants are looked for and removed; default 60000. */
  orphanSweepIntervalMs?: number | undefined;
  /** Cap on container launches (create and first start), restarts and removals per second on this node (token bucket); default 10. */
  maxContainerOpsPerSecond?: number | undefined;
  /** Exec session limits of the agent's endpoint (exec-endpoint.ts); absent: the defaults. */
  exec?: { maxSessions?: number; idleTimeoutMs?: number } | undefined;
  /** Dead containers kept for their logs are removed this long after they exited; default 1 h. */
  deadContainerTtlMs?: number | undefined;
  /** How often the runtime is pinged to notice an outage (dockerd restart); default 2000. */
  runtimeCheckIntervalMs?: number | undefined;
  /** How often container usage is sampled (--stats-interval); default 10 s; 0: off. */
  statsIntervalMs?: number | undefined;
  /** The cores containers may be pinned to (cpuMode cpuset); default 0..(fingerprinted cores - 1). */
  cpus?: readonly number[] | undefined;
  /** --reserved-cores: never pinned. Each must be one of `cpus`. */
  reservedCores?: readonly number[] | undefined;
  /** Whether the driver mounts lxcfs' /proc views (told per instance in status.isolation); absent: not said. */
  procViews?: boolean | undefined;
  /** A warm container (jobs with runIn warm) with no run for this long is removed; default 60000. */
  warmIdleMs?: number | undefined;
  /**
   * Picks host ports for published ports (GANTRY_PORT_<NAME>). Default: 20000-29999 with no bind
   * test, which suits the fake driver; the docker root passes one with a bind probe.
   */
  hostPorts?: HostPortAllocator | undefined;
  /** Name servers containers get in resolv.conf (Gantry's DNS as they reach it, on port 53). */
  containerDns?: readonly string[] | undefined;
  /**
   * Host pressure checks (node-pressure.ts) on these paths (plus the runtime's data root) every
   * intervalMs (default 10 s); absent: none (hollow nodes share one host and judge nothing).
   */
  pressure?: { thresholds: PressureThresholds; paths: readonly string[]; intervalMs?: number | undefined } | undefined;
}

/** The log endpoint of one agent run: its URL to publish (if any) and how to let go of it. */
interface LogEndpointLease {
  url: string | undefined;
  close(): Promise<void>;
}

/** The port of a URL, the scheme's default included. */
function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

/** `url` with its host replaced by `address`. */
function atAddress(url: string, address: string): string {
  const u = new URL(url);
  u.hostname = address.includes(':') ? `[${address}]` : address;
  return u.toString().replace(/\/$/, '');
}

/** How often the node's usage totals go into its status (the issue: at most once a minute). */
const USAGE_REPORT_MS = 60_000;
/**
 * The safety net's period (kubelet re-syncs each pod once a minute). It was 5 s: 100,000
 * instances in one simulator re-inspected 20,000 times a second, about a sixth of its CPU.
 */
const DEFAULT_INSPECT_INTERVAL_MS = 30_000;

export class Agent {
  /** This node's stats sampler, once its endpoint runs (none on the shared log server of gantry sim). */
  private stats: StatsSampler | undefined;
  private url: string | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.logger.child({ node: opts.nodeName });
  }

  /** The URL of the agent's log endpoint, once run() has started it; undefined with agentListen false. */
  get agentUrl(): string | undefined {
    return this.url;
  }

  /** Runs until the signal aborts. Leaves every container running when it returns. */
  /** Reads the host's pressures until the signal aborts; a condition turning True is a Warning event too. */
  private async watchPressure(o: NonNullable<AgentOptions['pressure']>, registrar: NodeRegistrar, paths: readonly string[], signal: AbortSignal): Promise<void> {
    const held = new Map<string, string>();
    while (!signal.aborted) {
      try {
        for (const c of pressureConditions(await readHost(paths), o.thresholds)) {
          registrar.setCondition(c);
          if (held.get(c.type) !== c.status) {
            if (c.status === 'True') this.log.warn({ condition: c.type, message: c.message }, 'node under pressure: no new instances are placed here');
            else if (held.has(c.type)) this.log.info({ condition: c.type, message: c.message }, 'node pressure ended');
            held.set(c.type, c.status);
          }
        }
      } catch (e) {
        this.log.warn({ err: describeError(e) }, 'could not read the host for pressure conditions');
      }
      await sleep(o.intervalMs ?? 10_000, signal);
    }
  }

  /** The node's cores for cpuMode cpuset, less --reserved-cores (a reserved core the node lacks is refused, naming both). */
  private cpusetAllocator(fingerprintedMillicores: number): CpusetAllocator {
    const cpus = this.opts.cpus ?? Array.from({ length: Math.max(0, Math.floor(fingerprintedMillicores / 1000)) }, (_, i) => i);
    const reserved = this.opts.reservedCores ?? [];
    const unknown = reserved.filter((c) => !cpus.includes(c));
    if (unknown.length > 0) throw new UsageError(`--reserved-cores ${formatCpuList(unknown)} ${unknown.length === 1 ? 'is not a core' : 'are not cores'} of this node (it has ${formatCpuList(cpus) || 'none'})`);
    return new CpusetAllocator(cpus, reserved);
  }

  async run(signal: AbortSignal): Promise<void> {
    const { client, nodeName } = this.opts;
    const bucket = new TokenBucket({ ratePerSecond: this.opts.maxContainerOpsPerSecond ?? 10 });
    // Everything that runs containers goes through the cap; logs and probes need no token.
    const driver = new RateLimitedDriver(this.opts.driver, bucket);
    const address = this.opts.address ?? '127.0.0.1';
    const fingerprint = await this.retry('fingerprint the container runtime', () => driver.fingerprint(), signal);
    if (!fingerprint) return;

    const cpusets = this.cpusetAllocator(fingerprint.cpu);
    const events = new EventReporter({ client, logger: this.log, source: `agent/${nodeName}`, flushIntervalMs: this.opts.eventFlushMs });
    // Events ride on status reports to a server that takes them: a fifth of a rollout's requests fewer.
    const reporter = new StatusReporter({ client, logger: this.log, flushIntervalMs: this.opts.statusFlushMs, events });
    // ... and wait for one that is due rather than go on their own.
    events.rideOn(() => reporter.takesEventsSoon);
    const supervisor = new InstanceSupervisor({
      events,
      driver,
      nodeName,
      hostIP: address,
      logger: this.log,
      reporter,
      restartBackoff: this.opts.restartBackoff,
      stopGraceSeconds: this.opts.stopGraceSeconds,
      orphanSweepIntervalMs: this.opts.orphanSweepIntervalMs,
      deadContainerTtlMs: this.opts.deadContainerTtlMs,
      files: clientFileSource(client, nodeName),
      warmIdleMs: this.opts.warmIdleMs,
      hostPorts: this.opts.hostPorts ?? new HostPortAllocator(),
      dnsServers: this.opts.containerDns,
      cpusets,
      procViews: this.opts.procViews,
    });
    const logs = await this.openLogEndpoint(supervisor, address);
    this.url = logs.url;
    reporter.start();
    events.start();
    try {
      const registrar = new NodeRegistrar({
        client,
        nodeName,
        labels: this.opts.labels,
        address,
        // What the server calls: this node's address and the endpoint's port (the node authorizer
        // refuses an agentUrl anywhere else).
        agentUrl: logs.url === undefined ? undefined : atAddress(logs.url, address),
        agentPort: logs.url === undefined ? undefined : portOf(logs.url),
        fingerprint,
        cpuset: { cpus: formatCpuList(cpusets.cpus), reserved: formatCpuList(cpusets.reserved), allocatable: cpusets.allocatable },
        heartbeatIntervalMs: this.opts.heartbeatIntervalMs ?? 5000,
        logger: this.log,
        events,
      });
      // Fingerprinting worked: the runtime answers. Written with the registration, no extra write.
      registrar.setRuntimeReachable(true, `${driver.name} answers`);
      const node = { kind: 'Node' as const, name: nodeName };
      const pressure = this.opts.pressure;
      const monitor = new RuntimeMonitor({
        driver,
        logger: this.log,
        intervalMs: this.opts.runtimeCheckIntervalMs,
        // A runtime that answers slowly is a condition too (with the pressure checks: docker only).
        onPing: pressure ? (took) => registrar.setCondition(responsiveCondition(driver.name, took, pressure.thresholds)) : undefined,
        onDown: (error) => {
          supervisor.runtimeLost();
          registrar.setRuntimeReachable(false, `${driver.name} does not answer: ${error}`);
          events.emit(node, 'Warning', 'DockerUnavailable', `the ${driver.name} runtime does not answer (${error}); containers keep running, nothing is restarted; retrying`);
        },
        onUp: async (downForMs) => {
          const containers = await supervisor.runtimeRecovered();
          this.log.info({ downForMs, containers }, 'container runtime answers again; state re-read');
          registrar.setRuntimeReachable(true, `${driver.name} answers`);
          events.emit(
            node,
            'Normal',
            'DockerReconnected',
            `the ${driver.name} runtime answers again after ${formatDelay(downForMs)}; re-read ${containers} container${containers === 1 ? '' : 's'}, none recreated`,
          );
        },
      });
      const tasks = [registrar.run(signal), monitor.run(signal), this.reportUsage(registrar, signal)];
      if (this.opts.pressure) tasks.push(this.watchPressure(this.opts.pressure, registrar, [...this.opts.pressure.paths, ...(fingerprint.info.dataRoot ? [fingerprint.info.dataRoot] : [])], signal));
      // Nothing starts before we know which containers exist: that is what prevents duplicates.
      const recovered = await this.retry('list existing containers', () => driver.recover(), signal);
      if (recovered) {
        this.log.info({ containers: recovered.length }, 'found existing containers');
        supervisor.setRecovered(recovered);
        tasks.push(
          this.watchInstances(supervisor, signal),
          this.followDriverEvents(supervisor, signal),
          this.inspectPeriodically(supervisor, signal),
          supervisor.runOrphanSweeps(signal),
          supervisor.warm.runReaper(signal),
        );
      }
      await Promise.allSettled(tasks);
    } finally {
      await supervisor.shutdown();
      bucket.close();
      await reporter.stop();
      await events.stop();
      await logs.close();
      this.log.info('agent stopped');
    }
  }

  /**
   * The node's summed usage into its status (status.usage), at most once a minute: the store
   * sees one small write per node per minute, never the samples themselves.
   */
  private async reportUsage(registrar: NodeRegistrar, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(USAGE_REPORT_MS, signal).catch(() => undefined);
      const totals = this.stats?.totals();
      if (totals && !signal.aborted) registrar.setUsage(totals);
    }
  }

  /** Attaches to the shared log server, listens on the agent's own, or neither (agentListen false). */
  private async openLogEndpoint(supervisor: InstanceSupervisor, address: string): Promise<LogEndpointLease> {
    const owns = (id: string): boolean => supervisor.owns(id);
    const kept = (id: string, tail: number | undefined): string[] | undefined => supervisor.runLog(id, tail);
    if (this.opts.logServer) {
      const attachment = this.opts.logServer.attach(this.opts.nodeName, { driver: this.opts.driver, owns, kept }, this.opts.agentToken);
      return { url: attachment.url, close: async () => attachment.detach() };
    }
    if (this.opts.agentListen === false) return { url: undefined, close: async () => undefined };
    // Live stats live in this agent's memory and are served from its endpoint (stats-sampler.ts).
    const stats = new StatsSampler({ driver: this.opts.driver, list: () => supervisor.liveContainers(), logger: this.log.child({ component: 'stats' }), intervalMs: this.opts.statsIntervalMs });
    const statsStop = new AbortController();
    const statsDone = stats.run(statsStop.signal);
    this.stats = stats;
    const server = new AgentServer({
      stats,
      nodeName: this.opts.nodeName,
      driver: this.opts.driver,
      token: this.opts.agentToken,
      tls: this.opts.endpointTls,
      owns,
      kept,
      logger: this.log,
      listen: this.opts.agentListen,
      advertiseHost: address,
      exec: this.opts.exec,
    });
    await server.listen();
    return {
      url: server.url,
      close: async () => {
        statsStop.abort();
        await statsDone;
        await server.close();
      },
    };
  }

  /** Lists and watches this node's Instances, resuming after disconnects (relist on EXPIRED). */
  private async watchInstances(supervisor: InstanceSupervisor, signal: AbortSignal): Promise<void> {
    const informer = new Informer({
      source: this.opts.client,
      kind: 'Instance',
      select: { field: { path: 'spec.node', value: this.opts.nodeName } },
      logger: this.log,
      // Our own status reports need not come back: runners read the spec (and a stop request in
      // it); the status they start from comes from the list. Half an agent's watch events.
      omitStatusChanges: true,
    });
    // A full list (the first, and after EXPIRED) is reconciled as a level; single changes one by one.
    const event = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Instance): ClientWatchEvent => ({ type, object, revision: object.metadata.revision });
    informer.addHandlers({
      onSync: (items) => supervisor.sync(items),
      onAdd: (i) => supervisor.handle(event('ADDED', i)),
      onUpdate: (_old, i) => supervisor.handle(event('MODIFIED', i)),
      onDelete: (i) => supervisor.handle(event('DELETED', i)),
    });
    await informer.run(signal);
  }

  private async followDriverEvents(supervisor: InstanceSupervisor, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        for await (const ev of this.opts.driver.events(signal)) {
          failures = 0;
          supervisor.onDriverEvent(ev);
        }
        // A stream that ends by itself backs off like one that fails (each turn re-inspects everything).
        failures++;
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        this.log.warn({ err: describeError(e) }, 'driver event stream failed; every instance re-inspects now and once it is back');
        // Events may have been lost up to now, and will be until the stream is open again.
        supervisor.pokeAll();
      }
      await sleep(Math.min(10_000, 250 * 2 ** Math.min(failures, 10)), signal);
      // The stream ended or failed: what happened while it was closed is not in the next one.
      if (!signal.aborted) supervisor.pokeAll();
    }
  }

  private async inspectPeriodically(supervisor: InstanceSupervisor, signal: AbortSignal): Promise<void> {
    // One repeating timer, not a sleep per round: a sleep allocates a promise, a timer and an abort
    // listener that live 5 s, which 10,000 agents in one process (gantry sim) turn into steady garbage.
    const timer = setInterval(() => supervisor.pokeAll(), this.opts.inspectIntervalMs ?? DEFAULT_INSPECT_INTERVAL_MS);
    try {
      await untilAborted(signal);
    } finally {
      clearInterval(timer);
    }
  }

  /** Retries `fn` with back-off until it succeeds; undefined if the signal aborted first. */
  private async retry<T>(what: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    const streak = new FailureStreak(this.log, { recovered: `could ${what} after retries` });
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const result = await fn();
        streak.succeeded();
        return result;
      } catch (e) {
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
        streak.failed({ err: describeError(e), retryInMs: delay }, `could not ${what}; will retry`);
        await sleep(delay, signal);
      }
    }
    return undefined;
  }
}
