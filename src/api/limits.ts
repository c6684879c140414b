// Limits per credential (docs/security.md, "Limits"): a token bucket of requests per credential and
// a cap on its open watches. Over either, the request gets 429 with Retry-After, which the HTTP
// client (CLI and agents) waits out and retries a bounded number of times. One onRequest hook,
// after authentication, so a credential is known; public routes (healthz, openapi) are not counted.
//
// The shared agent token (node '*') stands for every node at once: it is not limited (thousands of
// agents share it until per-node credentials replace it). A node's own credential is sized for an
// agent's real traffic: a heartbeat every 5 s, batched status and events, a relist and a few
// files after a restart.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describePrincipal, RateLimitedError, type Principal } from '../core/index.js';

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
}

export const DEFAULT_LIMITS: Limits = {
  rate: {
    admin: { perSecond: 200, burst: 1000 },
    user: { perSecond: 50, burst: 200 },
    node: { perSecond: 20, burst: 200 },
  },
  watches: { admin: 200, user: 50, node: 20 },
};

interface Bucket {
  tokens: number;
  at: number;
}

/** The credential a principal's limits count against; undefined: not limited. */
function credentialOf(p: Principal): { key: string; class: 'admin' | 'user' | 'node' } | undefined {
  if (p.kind === 'admin') return { key: 'admin', class: 'admin' };
  if (p.kind === 'user') return { key: `user/${p.tokenId}`, class: 'user' };
  if (p.name === '*') return undefined;
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
    if (!c) return;
    const rate = this.limits.rate[c.class];
    const now = this.clock();
    const b = this.buckets.get(c.key) ?? { tokens: rate.burst, at: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    this.buckets.set(c.key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / rate.perSecond));
    throw new RateLimitedError(`${describePrincipal(p)} sends more than ${rate.perSecond} requests a second (burst ${rate.burst}); retry after ${retryAfter} s`, retryAfter);
  }

  /** Counts an open watch; returns its release (call once, when the stream ends). Throws when at the cap. */
  openWatch(p: Principal): () => void {
    const c = credentialOf(p);
    if (!c) return () => {};
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
    const c = credentialOf(p);
    return c ? (this.watching.get(c.key) ?? 0) : 0;
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
