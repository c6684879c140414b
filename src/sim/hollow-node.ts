// One hollow node: the real Agent (the same class `gantry agent` runs) on a FakeDriver, with its
// own client. Only the containers are fake; registration, heartbeats, the instance watch and
// status reports are the production code paths.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Agent } from '../agent/agent.js';
import type { AgentLogServer } from '../agent/node/shared-log-server.js';
import type { GantryClient } from '../client/types.js';
import { describeError } from '../core/index.js';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import type { HollowNodeSpec } from './hollow-node-spec.js';
import { withRegistrationProbe } from './registration-probe.js';
import type { Capacity } from './sim-flags.js';

export interface HollowNodeOptions {
  spec: HollowNodeSpec;
  /** A fresh client for this node, authenticated with the agent token. */
  client: GantryClient;
  agentToken: string;
  capacity: Capacity;
  startLatencyMs?: number | undefined;
  failureRate?: number | undefined;
  heartbeatIntervalMs?: number | undefined;
  /** The log server every hollow node of the process shares; none: the node publishes no agent URL. */
  logServer?: AgentLogServer | undefined;
  logger: Logger;
}

export interface RunningHollowNode {
  /** Resolves true once the node's status is registered, false if the agent ended before that. */
  readonly registered: Promise<boolean>;
  /** Settles when the agent has stopped and its driver is closed; never rejects. */
  readonly done: Promise<void>;
  /** Why the agent ended on its own (e.g. the process ran out of file descriptors), if it did. */
  readonly error: () => Error | undefined;
}

/**
 * A signal of this node's own that follows `shared`. Every sleep of an agent adds and removes an
 * abort listener, and an EventTarget looks through all its listeners of a type to add or remove
 * one: on one signal shared by 10,000 agents that scan cost more CPU than the agents' work.
 */
function ownSignal(shared: AbortSignal): AbortSignal {
  const own = new AbortController();
  // An agent has a dozen listeners at a time (its loops, fetches and sleeps); more is not a leak.
  setMaxListeners(100, own.signal);
  if (shared.aborted) own.abort();
  else shared.addEventListener('abort', () => own.abort(), { once: true });
  return own.signal;
}

export function runHollowNode(opts: HollowNodeOptions, shared: AbortSignal): RunningHollowNode {
  const { spec } = opts;
  const signal = ownSignal(shared);
  const driver = new FakeDriver({
    nodeName: spec.name,
    cpu: opts.capacity.cpu,
    memory: opts.capacity.memory,
    startLatencyMs: opts.startLatencyMs,
    failureRate: opts.failureRate,
    seed: spec.driverSeed,
  });
  let markRegistered: (ok: boolean) => void = () => undefined;
  const registered = new Promise<boolean>((resolve) => {
    markRegistered = resolve;
  });
  const agent = new Agent({
    client: withRegistrationProbe(opts.client, () => markRegistered(true)),
    driver,
    nodeName: spec.name,
    labels: spec.labels,
    agentToken: opts.agentToken,
    logger: opts.logger,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    // The fake runtime never goes away; a ping timer per hollow node would be thousands of wake-ups a second.
    runtimeCheckIntervalMs: 0,
    // Never a socket of its own: 10,000 listening sockets do not fit the open-file limit.
    ...(opts.logServer ? { logServer: opts.logServer } : { agentListen: false }),
  });
  let error: Error | undefined;
  const done = (async () => {
    try {
      await agent.run(signal);
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
      opts.logger.error({ node: spec.name, err: describeError(e) }, 'hollow node agent failed');
    } finally {
      markRegistered(false);
      await driver.close().catch(() => undefined);
    }
  })();
  return { registered, done, error: () => error };
}
