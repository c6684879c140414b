// N hollow nodes in one process, started in waves: a wave of `ramp` agents starts, and the next
// waits until every node of this one registered, so the server never sees 10,000 registrations
// at once (kubemark ramps hollow nodes up the same way).
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { SharedLogServer } from '../agent/node/shared-log-server.js';
import { createHttpClient } from '../client/http-client.js';
import { HttpTransport } from '../client/http-transport.js';
import type { GantryClient } from '../client/types.js';
import { UnavailableError, UsageError } from '../core/index.js';
import { hollowNodeSpec, type HollowNodeSpec } from './hollow-node-spec.js';
import { runHollowNode, type RunningHollowNode } from './hollow-node.js';
import { DEFAULT_MAX_IN_FLIGHT, RequestGate, URGENT_RESERVE, withRequestGate } from './request-gate.js';
import { DEFAULT_CAPACITY, type Capacity } from './sim-flags.js';

export interface HollowNodesOptions {
  /** API URL, e.g. https://127.0.0.1:7070. */
  server: string;
  /** The cluster CA certificate (PEM) an https:// server is checked against. */
  ca?: string | undefined;
  /** The agent token. */
  token: string;
  nodes: number;
  /** Default 10: label rack=r<i % racks>. */
  racks?: number | undefined;
  /** Weights of the `pool` label; default web=0.8,batch=0.2. */
  pools?: Readonly<Record<string, number>> | undefined;
  /** Per node; default 32 cores and 128Gi. */
  capacity?: Capacity | undefined;
  startLatencyMs?: number | undefined;
  failureRate?: number | undefined;
  /** Default "hollow": nodes hollow-0000 ... */
  namePrefix?: string | undefined;
  /** Default 1. */
  seed?: number | undefined;
  /** Agents started per wave; default 200. */
  ramp?: number | undefined;
  heartbeatIntervalMs?: number | undefined;
  /**
   * host[:port] of the one log endpoint all hollow nodes share (`gantry logs` of their instances
   * works through it); default 127.0.0.1:0. false: none, and the nodes publish no agent URL.
   */
  logListen?: string | false | undefined;
  /** API calls (not watches) all nodes together have in flight at most; default 256. See request-gate.ts. */
  maxInFlight?: number | undefined;
  logger: Logger;
  /** Builds each node's own client; default createHttpClient over one transport all nodes share. */
  connect?: ((conn: { server: string; token: string }) => GantryClient) | undefined;
  /** Called after each wave. */
  onProgress?: ((p: HollowProgress) => void) | undefined;
}

export interface HollowProgress {
  started: number;
  registered: number;
  total: number;
  elapsedMs: number;
}

export interface HollowNodes {
  readonly nodes: readonly HollowNodeSpec[];
  /** The shared log endpoint's URL once listening (node i's agent URL is `<url>/nodes/<name>`). */
  logUrl(): string | undefined;
  /** Resolves once every node registered; rejects if the nodes were stopped first or an agent failed. */
  readonly ready: Promise<void>;
  registeredCount(): number;
  /**
   * The p-th percentile (0-100) of how long recent heartbeats waited in this process before they
   * were sent (the request gate), ms, and over how many; undefined before the first.
   */
  heartbeatDelay(p: number): { ms: number; samples: number } | undefined;
  /** Stops every agent (containers are in memory, so they go with it). Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_POOLS: Readonly<Record<string, number>> = { web: 0.8, batch: 0.2 };
export const DEFAULT_RAMP = 200;

/** Resolves when all of `promises` have, or when `signal` aborts, whichever is first. */
function allOrAbort(promises: Promise<unknown>[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void Promise.all(promises).then(done);
  });
}

export function startHollowNodes(opts: HollowNodesOptions, signal: AbortSignal): HollowNodes {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new UsageError(`--nodes must be a whole number above 0, not ${opts.nodes}`);
  const rampSize = opts.ramp ?? DEFAULT_RAMP;
  if (!Number.isInteger(rampSize) || rampSize < 1) throw new UsageError(`--ramp must be a whole number above 0, not ${rampSize}`);
  const racks = opts.racks ?? 10;
  if (!Number.isInteger(racks) || racks < 1) throw new UsageError(`--racks must be a whole number above 0, not ${racks}`);
  const layout = { namePrefix: opts.namePrefix ?? 'hollow', nodes: opts.nodes, racks, pools: opts.pools ?? DEFAULT_POOLS, seed: opts.seed ?? 1 };
  const nodes = Array.from({ length: opts.nodes }, (_, i) => hollowNodeSpec(layout, i));
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  // One keep-alive pool for every node's calls: the request gate keeps at most maxInFlight calls
  // in flight, so the pool never needs more sockets than that (fd-budget.ts counts on it).
  const transport = opts.connect ? undefined : new HttpTransport({ maxSockets: maxInFlight + URGENT_RESERVE, tls: { ca: opts.ca } });
  const connect = opts.connect ?? ((conn: { server: string; token: string }): GantryClient => createHttpClient({ ...conn, transport }));
  const stopper = new AbortController();
  const linked = AbortSignal.any([signal, stopper.signal]);
  // One listener per hollow node (each chains its own signal to this one).
  setMaxListeners(0, linked);
  const running: RunningHollowNode[] = [];
  const logServer = opts.logListen === false ? undefined : new SharedLogServer({ token: opts.token, logger: opts.logger, listen: opts.logListen });
  let logUrl: string | undefined;
  const gate = new RequestGate(maxInFlight, { urgentReserve: URGENT_RESERVE });
  let registered = 0;
  const t0 = Date.now();

  const startOne = (spec: HollowNodeSpec): RunningHollowNode => {
    const node = runHollowNode(
      {
        spec,
        client: withRequestGate(connect({ server: opts.server, token: opts.token }), gate),
        agentToken: opts.token,
        capacity: opts.capacity ?? DEFAULT_CAPACITY,
        startLatencyMs: opts.startLatencyMs,
        failureRate: opts.failureRate,
        heartbeatIntervalMs: opts.heartbeatIntervalMs,
        logServer,
        logger: opts.logger,
      },
      linked,
    );
    void node.registered.then((ok) => {
      if (ok) registered++;
    });
    return node;
  };

  const rampUp = async (): Promise<void> => {
    if (logServer) {
      await logServer.listen();
      logUrl = logServer.url;
    }
    for (let from = 0; from < nodes.length && !linked.aborted; from += rampSize) {
      const wave = nodes.slice(from, from + rampSize).map(startOne);
      running.push(...wave);
      const outcomes = wave.map((n) => n.registered);
      await allOrAbort(outcomes, linked);
      opts.onProgress?.({ started: running.length, registered, total: nodes.length, elapsedMs: Date.now() - t0 });
      const failed = wave.find((n) => n.error());
      if (failed) {
        // The usual cause is the process running out of file descriptors: starting more would fail the same way.
        throw new UnavailableError(`hollow node agents stopped starting after ${registered} of ${nodes.length} registered: ${failed.error()?.message} (see src/sim/README.md: open files)`);
      }
    }
    if (registered < nodes.length) throw new UnavailableError(`hollow nodes were stopped after ${registered} of ${nodes.length} registered`);
  };

  const ready = rampUp();
  // stop() may end the ramp while nobody awaits `ready`: that must not become an unhandled rejection.
  ready.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    nodes,
    logUrl: () => logUrl,
    ready,
    registeredCount: () => registered,
    heartbeatDelay: (p) => gate.urgentWaitPercentile(p),
    stop: () => {
      stopping ??= (async () => {
        stopper.abort();
        await ready.catch(() => undefined);
        await Promise.all(running.map((n) => n.done));
        await logServer?.close();
        transport?.close();
      })();
      return stopping;
    },
  };
}
