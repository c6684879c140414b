// Exec tickets: how a browser (which cannot set headers on a WebSocket) opens an exec session. An
// authenticated POST gets a ticket; the WebSocket upgrade carries it in its query string. A ticket
// is `<payload>.<mac>`: base64url JSON claims and an HMAC-SHA256 over them with a key from the data
// dir, so any server holding the key can check it and none has to remember issued tickets. It is
// short-lived (30 s by default) and single-use: a redeemed ticket's nonce is kept until it expires.
// That spent set lives in the redeeming server's memory, so with several servers a ticket stolen
// within its lifetime could be replayed once on another server; the short life bounds that.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../core/errors.js';

/** What a ticket allows: this principal, this command, in this instance's container. */
export interface ExecClaims {
  readonly subject: string;
  readonly namespace: string;
  readonly instance: string;
  readonly container?: string;
  readonly command: readonly string[];
  readonly tty: boolean;
}

interface TicketBody extends ExecClaims {
  readonly exp: number;
  readonly nonce: string;
}

export interface ExecTicketOptions {
  readonly key: Uint8Array;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class ExecTickets {
  private readonly key: Uint8Array;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly spent = new Map<string, number>();

  constructor(options: ExecTicketOptions) {
    if (options.key.length < 32) throw new Error('exec ticket key must be at least 32 bytes');
    this.key = options.key;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  issue(claims: ExecClaims): { ticket: string; expiresAt: string } {
    const exp = this.now() + this.ttlMs;
    const body: TicketBody = { ...claims, exp, nonce: randomBytes(16).toString('base64url') };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return { ticket: `${payload}.${this.mac(payload)}`, expiresAt: new Date(exp).toISOString() };
  }

  /** The ticket's claims, once; a forged, expired or already used ticket is an UnauthorizedError. */
  redeem(ticket: string): ExecClaims {
    const [payload, mac, extra] = ticket.split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) throw new UnauthorizedError('malformed exec ticket');
    const want = Buffer.from(this.mac(payload));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new UnauthorizedError('exec ticket signature does not match');
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TicketBody;
    const now = this.now();
    this.forgetExpired(now);
    if (body.exp <= now) throw new UnauthorizedError('exec ticket expired');
    if (this.spent.has(body.nonce)) throw new UnauthorizedError('exec ticket already used');
    this.spent.set(body.nonce, body.exp);
    const { exp: _exp, nonce: _nonce, ...claims } = body;
    return claims;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  private forgetExpired(now: number): void {
    for (const [nonce, exp] of this.spent) if (exp <= now) this.spent.delete(nonce);
  }
}
