// Registers this node (its spec, then its status with capacity and agent URL) and keeps it alive
// with heartbeats. The server being down never stops the agent: every failure is logged and
// retried with back-off, and a server that forgot the node (NOT_FOUND) gets it registered again.
import type { Logger } from 'pino';
import { API_VERSION, describeError, formatCpu, formatMemory, isAppError, sleep, type Condition, type Manifest, type NodeStatus } from '../../core/index.js';
import type { GantryClient } from '../../client/types.js';
import type { Fingerprint } from '../../drivers/driver.js';
import { retryOnConflict } from '../../runtime/retry-on-conflict.js';
import { FailureStreak } from '../../runtime/failure-streak.js';
import type { EventReporter } from './event-reporter.js';

export interface NodeRegistrarOptions {
  client: GantryClient;
  nodeName: string;
  labels: Record<string, string>;
  address: string;
  /** The agent endpoint's URL, for people to read (status.agentUrl); undefined without a log endpoint. */
  agentUrl?: string | undefined;
  /** Where the server reaches the agent (spec.agentPort, with spec.address); undefined without a log endpoint. */
  agentPort?: number | undefined;
  fingerprint: Fingerprint;
  /** The cores cpuMode cpuset may pin (status.cpuset); absent: not reported. */
  cpuset?: NodeStatus['cpuset'] | undefined;
  heartbeatIntervalMs: number;
  logger: Logger;
  events?: EventReporter | undefined;
  /** Uniform in [0, 1); default Math.random. Spreads heartbeats and retries (see run()). */
  random?: (() => number) | undefined;
}

/** A heartbeat's own timeout is its interval, and never below this. */
export const MIN_HEARTBEAT_TIMEOUT_MS = 2000;

/**
 * The wait before the next heartbeat or retry. Retries come quicker than heartbeats, but never
 * rarer: a slow retry would mark the node lost. Both are jittered downwards (heartbeats by up to
 * 20%, retries by up to half): when the server stalls, every agent's heartbeat fails or returns
 * at the same moment, and without jitter they would all come back in lockstep, every time.
 */
export function heartbeatDelay(intervalMs: number, failures: number, random: () => number): number {
  if (failures === 0) return intervalMs * (1 - 0.2 * random());
  const backoff = Math.min(intervalMs, 250 * 2 ** Math.min(failures, 10));
  return backoff * (1 - 0.5 * random());
}

export class NodeRegistrar {
  /**
   * Conditions the agent judges on its host, by type: the container runtime's (DockerReachable),
   * once known, and the pressures (node-pressure.ts).
   */
  private readonly conditions = new Map<string, Condition>();
  /** The node status must be written again (a condition changed status, new usage totals). */
  private statusDirty = false;
  /** The latest usage totals (status.usage), written with the next status write. */
  private usage: NodeStatus['usage'];
  /** The status write in flight; heartbeats go on beside it (see run()). */
  private statusWrite: Promise<void> | undefined;

  constructor(private readonly opts: NodeRegistrarOptions) {}

  /**
   * Records whether the container runtime answers, as the node condition `DockerReachable`
   * (for the docker driver; `RuntimeReachable` for others). Written with the next heartbeat.
   */
  setRuntimeReachable(reachable: boolean, message: string): void {
    const type = this.opts.fingerprint.driver === 'docker' ? 'DockerReachable' : 'RuntimeReachable';
    this.setCondition({ type, status: reachable ? 'True' : 'False', reason: reachable ? 'RuntimeAnswers' : 'RuntimeUnavailable', message });
  }

  /**
   * Sets a condition of the host (a pressure, the runtime's). Only a change of status is written
   * (with the next heartbeat): messages carry readings that move all the time.
   */
  setCondition(next: Omit<Condition, 'lastTransitionTime'>): void {
    const held = this.conditions.get(next.type);
    if (held && held.status === next.status) {
      this.conditions.set(next.type, { ...held, reason: next.reason, message: next.message });
      return;
    }
    this.conditions.set(next.type, { ...next, lastTransitionTime: new Date().toISOString() });
    this.statusDirty = true;
  }

  /** New usage totals for status.usage: written with the next heartbeat (the agent calls this once a minute). */
  setUsage(usage: NonNullable<NodeStatus['usage']>): void {
    this.usage = usage;
    this.statusDirty = true;
  }

  /** Creates or updates the Node, keeping what an operator set in its spec, then writes its status. */
  async register(): Promise<void> {
    const { client, nodeName, address, fingerprint: fp } = this.opts;
    await this.applySpec();
    const now = new Date().toISOString();
    const status: NodeStatus = {
      ready: true,
      capacity: { cpu: fp.cpu, memory: fp.memory },
      driver: fp.driver,
      address,
      ...(this.opts.agentUrl !== undefined ? { agentUrl: this.opts.agentUrl } : {}),
      lastHeartbeat: now,
      info: fp.info,
      ...(this.opts.cpuset ? { cpuset: this.opts.cpuset } : {}),
      ...(this.usage ? { usage: this.usage } : {}),
      conditions: [
        { type: 'Ready', status: 'True', reason: 'AgentRegistered', message: 'the agent registered and is heartbeating', lastTransitionTime: now },
        ...this.conditions.values(),
      ],
    };
    this.statusDirty = false;
    await client.updateNodeStatus(nodeName, status);
    this.opts.logger.info({ node: nodeName, address, agentUrl: this.opts.agentUrl, cpu: fp.cpu, memory: fp.memory }, 'node registered');
    this.opts.events?.emit(
      { kind: 'Node', name: nodeName },
      'Normal',
      'Registered',
      `registered node ${nodeName} at ${address}: ${formatCpu(fp.cpu)} CPU, ${formatMemory(fp.memory)} memory, driver ${fp.driver}`,
    );
  }

  /**
   * Read, merge, then write with a compare-and-swap on the revision read: an operator's
   * `unschedulable: true` written in between must not be overwritten by the stale copy.
   */
  private async applySpec(): Promise<void> {
    const { client, nodeName, labels, address, agentPort } = this.opts;
    await retryOnConflict(
      async () => {
        const existing = await client.get('Node', undefined, nodeName).catch((e: unknown) => {
          if (isAppError(e, 'NOT_FOUND')) return undefined;
          throw e;
        });
        const metadata: Manifest['metadata'] = { name: nodeName, labels: { ...(existing?.metadata.labels ?? {}), ...labels } };
        if (existing) metadata.revision = existing.metadata.revision;
        // An operator's unschedulable/overcommit/reserved survive an agent restart.
        const { agentPort: _previous, ...kept } = existing?.spec ?? {};
        const manifest: Manifest = {
          apiVersion: API_VERSION,
          kind: 'Node',
          metadata,
          spec: { ...kept, address, ...(agentPort !== undefined ? { agentPort } : {}) },
        };
        await client.apply(manifest);
      },
      { onRetry: (_, attempt) => this.opts.logger.info({ node: nodeName, attempt }, 'node changed while registering; reading it again') },
    );
  }

  /**
   * Rewrites the stored status with the host's current conditions and usage totals, as a
   * compare-and-swap on the revision read: a Ready=False the node controller wrote in between
   * must not be overwritten by the stale copy (409: dirty again, the next round reads again).
   */
  private async writeStatus(): Promise<void> {
    const { client, nodeName } = this.opts;
    const mine = [...this.conditions.values()];
    if (mine.length === 0 && !this.usage) return;
    this.statusDirty = false;
    try {
      const node = await client.get('Node', undefined, nodeName);
      const base = node.status;
      if (!base) {
        this.statusDirty = true;
        return;
      }
      const conditions = [...base.conditions.filter((c) => !this.conditions.has(c.type)), ...mine];
      await client.updateNodeStatus(nodeName, { ...base, conditions, ...(this.usage ? { usage: this.usage } : {}) }, node.metadata.revision);
    } catch (e) {
      this.statusDirty = true;
      throw e;
    }
  }

  /**
   * Registers (retrying until it works), then heartbeats every interval until the signal aborts.
   * A status write runs beside the heartbeats, never in their way: a write waits for the server's
   * store, and at 5,000 nodes on a busy server that wait outlasted a service's lostAfter, so a
   * node whose heartbeat loop waited for it was declared lost while it was fine.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { client, nodeName, logger } = this.opts;
    let registered = false;
    // One warn when the server stops answering, one info when it answers again (not a line per retry).
    const streak = new FailureStreak(logger, { recovered: 'server answers again' });
    while (!signal.aborted) {
      const failures = streak.count;
      // The server asks for longer intervals as the cluster grows (runtime/heartbeat-pace.ts).
      const interval = Math.max(this.opts.heartbeatIntervalMs, client.advisedHeartbeatIntervalMs ?? 0);
      // A report the server took as this node's heartbeat (client.leaseRenewedAt) makes the next
      // heartbeat due an interval after it: while instances start, stop and report, that is
      // every heartbeat spared (half the requests of a rollout at 5,000 nodes).
      const renewedAt = client.leaseRenewedAt;
      // At most an interval: a wall clock stepped back must not hold heartbeats back longer.
      const dueIn = registered && failures === 0 && renewedAt !== undefined ? Math.min(interval, renewedAt + interval * (1 - 0.2 * (this.opts.random ?? Math.random)()) - Date.now()) : 0;
      if (dueIn > 0) {
        if (this.statusDirty && !this.statusWrite) this.startStatusWrite(signal);
        await sleep(dueIn, signal);
        continue;
      }
      try {
        if (registered) {
          if (this.statusDirty && !this.statusWrite) this.startStatusWrite(signal);
          // At most an interval: a heartbeat stuck on a connection the server never accepted (its
          // listen queue overflowed as 5,000 agents reconnected after a restart) waited out the
          // client's 30 s, past the grace period, and the node was declared lost while it ran.
          await client.heartbeat(nodeName, { timeoutMs: Math.max(MIN_HEARTBEAT_TIMEOUT_MS, interval) });
        } else {
          await this.register();
          registered = true;
        }
        streak.succeeded({ node: nodeName });
      } catch (e) {
        if (signal.aborted) return;
        if (registered && isAppError(e, 'NOT_FOUND')) {
          logger.warn({ node: nodeName }, 'server does not know this node; registering again');
          registered = false;
          continue;
        }
        streak.failed({ node: nodeName, err: describeError(e) }, registered ? 'heartbeat failed' : 'node registration failed; will retry');
      }
      await sleep(heartbeatDelay(interval, streak.count, this.opts.random ?? Math.random), signal);
    }
  }

  private startStatusWrite(signal: AbortSignal): void {
    const { nodeName, logger } = this.opts;
    this.statusWrite = this.writeStatus()
      .catch((e: unknown) => {
        if (!signal.aborted) logger.warn({ node: nodeName, err: describeError(e) }, 'node status write failed; will retry with the next heartbeat');
      })
      .finally(() => (this.statusWrite = undefined));
  }

  /** Resolves once the status write in flight, if any, has ended (tests). */
  async statusWritten(): Promise<void> {
    await this.statusWrite;
  }
}
