// What every routes file receives from buildApp, and small request helpers they share.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { EventRecorder } from '../runtime/event-recorder.js';
import type { ServerMetrics } from '../runtime/metrics.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import { MalformedError } from '../core/index.js';
import type { Store } from '../store/store.js';
import type { RequestLimiter } from './limits.js';
import type { OpenStreams } from './open-streams.js';
import type { TokenMirror } from './token-mirror.js';

export interface RouteDeps {
  store: Store;
  logger: Logger;
  streams: OpenStreams;
  /** Limits per credential (limits.ts); routes with their own counts (node events) take from it. */
  limiter?: RequestLimiter | undefined;
  bookmarkIntervalMs: number;
  /** What the log proxy presents to a node's agent (per node, from the join); absent: nothing (no joins). */
  endpointToken?: ((node: string) => string | undefined) | undefined;
  /**
   * How the server calls agents' https:// endpoints: the cluster CA it checks them against, and its
   * client certificate (common name gantry-server), which agents require.
   */
  agentTls?: { ca: string; cert: string; key: string } | undefined;
  events: EventRecorder;
  /** Heartbeats renew leases here; absent: every heartbeat is a store write. */
  leases?: NodeLeases | undefined;
  /**
   * A node's report (status, events) counts as its heartbeat (heartbeats.ts, heartbeatFromReport);
   * the agent's routes call it once the report is taken. Absent: reports are only reports.
   */
  reportIsHeartbeat?: ((req: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined;
  /** Token objects in memory (authentication reads them; the token routes note their writes). */
  tokens: TokenMirror;
  /** Lists and watches are counted here (gantry_api_reads_total). */
  metrics?: ServerMetrics | undefined;
}

/** A query flag: `1`/`true` is on, absent/`0`/`false` is off, anything else is malformed. */
export function queryFlag(query: Record<string, unknown>, name: string): boolean {
  const v = query[name];
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true' || v === '') return true;
  throw new MalformedError(`query parameter ${name} must be 1 or 0`);
}

/** A non-negative integer query parameter, or undefined when absent. */
export function queryInt(query: Record<string, unknown>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9]{1,15}$/.test(v)) throw new MalformedError(`query parameter ${name} must be a whole number`);
  return Number(v);
}

export type Params = Record<string, string | undefined>;
export type Query = Record<string, unknown>;
