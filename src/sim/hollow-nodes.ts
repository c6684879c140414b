// N hollow nodes in one process, started in waves: a wave of `ramp` agents starts, and the next
// waits until every node of this one registered, so the server never sees 10,000 registrations
// at once (kubemark ramps hollow nodes up the same way). Every node joins first, as `gantry agent
// --join` does (POST /api/v1/join with the one join token, made for --nodes uses), and keeps the
// node credential it gets in memory: no shared token stands for them. Hollow nodes ask for no
// serving certificate (they share one plain log endpoint), so a join is a few store writes.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { SharedLogServer } from '../agent/node/shared-log-server.js';
import { createHttpClient } from '../client/http-client.js';
import { HttpTransport } from '../client/http-transport.js';
import { certificateFingerprint, fetchPinnedCa, joinCluster } from '../client/join.js';
import type { GantryClient } from '../client/types.js';
import { parseToken, UnauthorizedError, UnavailableError, UsageError, type JoinAnswer, type JoinRequest } from '../core/index.js';
import { hollowNodeSpec, type HollowNodeSpec } from './hollow-node-spec.js';
import { runHollowNode, type RunningHollowNode } from './hollow-node.js';
import { DEFAULT_MAX_IN_FLIGHT, RequestGate, URGENT_RESERVE, withRequestGate } from './request-gate.js';
import { DEFAULT_CAPACITY, type Capacity } from './sim-flags.js';

/**
 * New watch connections the simulator sets up per event-loop turn (turn-pacer.ts). After a server
 * restart all 5,000 hollow nodes' watches come back at once, each a TLS handshake of about 2 ms:
 * set up in one pass, they blocked the simulator for 13.4 s and its heartbeats waited 20-28 s for
 * a slot (nodes were marked lost). Paced, every node was heard from 10-14 s after the listen; the
 * watches were all back in about 45 s at 8 a turn and 42 s at 32 (a busy simulator turns a few
 * times a second; docs/performance.md, eighteenth session).
 */
const SIM_STREAMS_PER_TURN = 32;

export interface HollowNodesOptions {
  /** API URL, e.g. https://127.0.0.1:7070. */
  server: string;
  /**
   * The cluster CA certificate (PEM) an https:// server is checked against; it must be the one the
   * join token names. Default: fetched from the server and pinned to the join token's fingerprint.
   */
  ca?: string | undefined;
  /** A join token (`GTJ-1-...`) with a use for every node (gantry token create --join --uses N). */
  joinToken: string;
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
  /** Builds each node's own client (token: its node credential); default createHttpClient over one transport all nodes share. */
  connect?: ((conn: { server: string; token: string }) => GantryClient) | undefined;
  /** Sends one node's join; default POST /api/v1/join over the shared transport. */
  join?: ((req: JoinRequest) => Promise<JoinAnswer>) | undefined;
  /** Called after each wave. */
  onProgress?: ((p: HollowProgress) => void) | undefined;
}

export interface HollowProgress {
  started: number;
  registered: number;
  total: number;
  elapsedMs: number;
  /** Time spent in joins so far, summed over nodes (they overlap within a wave). */
  joinMs: number;
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
  const joinToken = parseToken(opts.joinToken);
  if (joinToken?.type !== 'join') {
    throw new UsageError('gantry sim needs a join token with a use per node (GANTRY_TOKEN or --token-file; gantry token create --join --uses N): hollow nodes join like any node');
  }
  // One keep-alive pool for every node's calls (joins included): the request gate keeps at most
  // maxInFlight calls (plus the urgent reserve) in flight, so the pool never needs more sockets
  // than that (fd-budget.ts counts on it). Made once the cluster CA is known (pinned to the join token).
  let transport: HttpTransport | undefined;
  const connect = opts.connect ?? ((conn: { server: string; token: string }): GantryClient => createHttpClient({ ...conn, transport }));
  const stopper = new AbortController();
  const linked = AbortSignal.any([signal, stopper.signal]);
  // One listener per hollow node (each chains its own signal to this one).
  setMaxListeners(0, linked);
  const running: RunningHollowNode[] = [];
  const logServer = opts.logListen === false ? undefined : new SharedLogServer({ logger: opts.logger, listen: opts.logListen });
  let logUrl: string | undefined;
  const gate = new RequestGate(maxInFlight, { urgentReserve: URGENT_RESERVE });
  let registered = 0;
  let joinMs = 0;
  const t0 = Date.now();

  /** The CA to trust: the one given (checked against the join token), else the server's, pinned. */
  const trustedCa = async (): Promise<string | undefined> => {
    if (!opts.server.startsWith('https:')) return opts.ca;
    if (opts.ca === undefined) return fetchPinnedCa(opts.server, opts.joinToken);
    if (certificateFingerprint(opts.ca) !== joinToken.caFingerprint) {
      throw new UnauthorizedError('the CA given (--ca, GANTRY_CA or the data dir) is not the one the join token was made for (its fingerprint differs): leave --ca out to pin the server\'s CA to the token');
    }
    return opts.ca;
  };

  // Where the server's log proxy reaches every hollow node: the shared log endpoint (its path names
  // the node). Without one, a port nothing listens on: logs of hollow instances are then refused.
  const endpoint = (): { address: string; agentPort: number } => {
    if (!logUrl) return { address: '127.0.0.1', agentPort: 1 };
    const u = new URL(logUrl);
    return { address: u.hostname.replace(/^\[|\]$/g, ''), agentPort: Number(u.port) };
  };

  const joinOne = async (spec: HollowNodeSpec, join: (req: JoinRequest) => Promise<JoinAnswer>): Promise<JoinAnswer> => {
    const started = performance.now();
    try {
      return await join({ token: opts.joinToken, node: spec.name, ...endpoint(), labels: spec.labels, servingCertificate: false });
    } finally {
      joinMs += performance.now() - started;
    }
  };

  const startOne = (spec: HollowNodeSpec, joined: JoinAnswer): RunningHollowNode => {
    const node = runHollowNode(
      {
        spec,
        // The node's own credential, kept in memory only; its labels were set by the join.
        client: withRequestGate(connect({ server: opts.server, token: joined.credential }), gate),
        agentToken: joined.endpointToken,
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
    const ca = await trustedCa();
    if (!opts.connect || !opts.join) transport = new HttpTransport({ maxSockets: maxInFlight + URGENT_RESERVE, tls: { ca }, streamsPerTurn: SIM_STREAMS_PER_TURN });
    const join = opts.join ?? ((req: JoinRequest): Promise<JoinAnswer> => joinCluster(opts.server, ca ?? '', req, transport));
    if (logServer) {
      await logServer.listen();
      logUrl = logServer.url;
    }
    for (let from = 0; from < nodes.length && !linked.aborted; from += rampSize) {
      const specs = nodes.slice(from, from + rampSize);
      const joins = await Promise.allSettled(specs.map((spec) => joinOne(spec, join)));
      const wave = specs.flatMap((spec, i) => {
        const j = joins[i];
        return j?.status === 'fulfilled' && !linked.aborted ? [startOne(spec, j.value)] : [];
      });
      running.push(...wave);
      const refused = joins.find((j) => j.status === 'rejected');
      if (refused) {
        const why = refused.reason instanceof Error ? refused.reason.message : String(refused.reason);
        throw new UnavailableError(`hollow node ${specs[joins.indexOf(refused)]?.name ?? ''} could not join (${from + wave.length} of ${nodes.length} joined): ${why}`);
      }
      const outcomes = wave.map((n) => n.registered);
      await allOrAbort(outcomes, linked);
      opts.onProgress?.({ started: running.length, registered, total: nodes.length, elapsedMs: Date.now() - t0, joinMs });
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
