// Limits per credential (docs/security.md, "Limits"): a token bucket of requests per credential and
// a cap on its open watches. Over either, the request gets 429 with Retry-After, which the HTTP
// client (CLI and agents) waits out and retries a bounded number of times. One onRequest hook,
// after authentication, so a credential is known; public routes (healthz, openapi) are not counted.
//
// Every node has its own credential (from its join), so every node has its own buckets, sized for
// an agent's real traffic: a heartbeat every 5 s, batched status and events, a relist and a few
// files after a restart.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describePrincipal, InvalidError, RateLimitedError, type Principal } from '../core/index.js';

export interface Rate {
  /** Requests per second, refilled continuously. */
  perSecond: number;
  /** Bucket size: how many may come at once after a quiet spell. */
  burst: number;
}

export interface Limits {
  rate: Readonly<Record<'admin' | 'user' | 'node', Rate>>;
  /** Open watch streams at once, per credential. */
  watches: Readonly<Record<'admin' | 'user' | 'node', number>>;
  /**
   * Events a node credential may record (`POST /api/v1/events`), counted per event, not per
   * request; default DEFAULT_NODE_EVENTS. The burst holds one full batch of an agent's reporter.
   */
  nodeEvents?: Rate | undefined;
}

/** An agent's events, per node credential: 10 a second, 500 at once (its reporter's largest batch). */
export const DEFAULT_NODE_EVENTS: Rate = { perSecond: 10, burst: 500 };

export const DEFAULT_LIMITS: Limits = {
  rate: {
    admin: { perSecond: 200, burst: 1000 },
    user: { perSecond: 50, burst: 200 },
    node: { perSecond: 20, burst: 200 },
  },
  watches: { admin: 200, user: 50, node: 20 },
  nodeEvents: DEFAULT_NODE_EVENTS,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** The credential a principal's limits count against. */
function credentialOf(p: Principal): { key: string; class: 'admin' | 'user' | 'node' } {
  if (p.kind === 'admin') return { key: 'admin', class: 'admin' };
  if (p.kind === 'user') return { key: `user/${p.tokenId}`, class: 'user' };
  return { key: `node/${p.tokenId}`, class: 'node' };
}

export class RequestLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly watching = new Map<string, number>();

  constructor(
    readonly limits: Limits = DEFAULT_LIMITS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Takes one request from the principal's bucket; throws RateLimitedError when it is empty. */
  take(p: Principal): void {
    const c = credentialOf(p);
    const rate = this.limits.rate[c.class];
    const retryAfter = this.takeFrom(c.key, rate, 1);
    if (retryAfter === undefined) return;
    throw new RateLimitedError(`${describePrincipal(p)} sends more than ${rate.perSecond} requests a second (burst ${rate.burst}); retry after ${retryAfter} s`, retryAfter);
  }

  /**
   * Takes `count` events from a node credential's event bucket, all or none: a batch over what is
   * left is refused whole (nothing of it recorded) with the seconds until it would fit. Only nodes
   * are counted: people cannot record events, and the controllers record in-process.
   */
  takeEvents(p: Principal, count: number): void {
    if (p.kind !== 'node' || count <= 0) return;
    const rate = this.limits.nodeEvents ?? DEFAULT_NODE_EVENTS;
    // Waiting would never help such a batch: refuse it as invalid (agents send at most 500).
    if (count > rate.burst) throw new InvalidError(`${describePrincipal(p)} sent ${count} events in one batch; a node may record at most ${rate.burst} at once: send smaller batches`);
    const retryAfter = this.takeFrom(`events/${p.tokenId}`, rate, count);
    if (retryAfter === undefined) return;
    throw new RateLimitedError(
      `${describePrincipal(p)} records more than ${rate.perSecond} events a second (burst ${rate.burst}); this batch of ${count} was not recorded; retry after ${retryAfter} s`,
      retryAfter,
    );
  }

  /** Takes `count` from bucket `key`; undefined when taken, else whole seconds until it would be there. */
  private takeFrom(key: string, rate: Rate, count: number): number | undefined {
    const now = this.clock();
    const b = this.buckets.get(key) ?? { tokens: rate.burst, at: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= count) {
      b.tokens -= count;
      return undefined;
    }
    return Math.max(1, Math.ceil((count - b.tokens) / rate.perSecond));
  }

  /** Counts an open watch; returns its release (call once, when the stream ends). Throws when at the cap. */
  openWatch(p: Principal): () => void {
    const c = credentialOf(p);
    const max = this.limits.watches[c.class];
    const open = this.watching.get(c.key) ?? 0;
    if (open >= max) throw new RateLimitedError(`${describePrincipal(p)} has ${open} watches open, the most one credential may; close one (or wait for one to end)`, 5);
    this.watching.set(c.key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.watching.get(c.key) ?? 1) - 1;
      if (n <= 0) this.watching.delete(c.key);
      else this.watching.set(c.key, n);
    };
  }

  /** Open watches of a principal's credential (for tests and metrics). */
  watchesOf(p: Principal): number {
    return this.watching.get(credentialOf(p).key) ?? 0;
  }
}

function isWatch(req: FastifyRequest): boolean {
  const w = (req.query as Record<string, unknown> | undefined)?.watch;
  return w === '1' || w === 'true' || w === '';
}

/** Installs the limits hook; register it after the auth hook (hooks run in order). */
export function registerLimits(app: FastifyInstance, limiter: RequestLimiter): void {
  app.addHook('onRequest', async (req, reply) => {
    const p = req.principal;
    if (!p) return;
    limiter.take(p);
    if (req.method === 'GET' && isWatch(req)) {
      const release = limiter.openWatch(p);
      reply.raw.once('close', release);
    }
  });
}
