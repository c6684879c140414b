import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../core/errors.js';
import { ExecTickets, type ExecClaims } from './exec-ticket.js';

const claims: ExecClaims = { subject: 'user:alice', namespace: 'team-a', instance: 'web-1', command: ['sh'], tty: true };

describe('exec tickets', () => {
  it('gives back the claims once, on any server holding the same key', () => {
    const key = randomBytes(32);
    const { ticket, expiresAt } = new ExecTickets({ key, now: () => 1_000 }).issue(claims);
    expect(expiresAt).toBe(new Date(31_000).toISOString());
    const other = new ExecTickets({ key, now: () => 2_000 });
    expect(other.redeem(ticket)).toEqual(claims);
    expect(() => other.redeem(ticket)).toThrow('already used');
  });

  it('refuses a ticket signed with another key, a tampered one and a malformed one', () => {
    const { ticket } = new ExecTickets({ key: randomBytes(32) }).issue(claims);
    const tickets = new ExecTickets({ key: randomBytes(32) });
    expect(() => tickets.redeem(ticket)).toThrow(UnauthorizedError);
    const own = new ExecTickets({ key: randomBytes(32) });
    const [payload, mac] = own.issue(claims).ticket.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('web-1', 'db-1')).toString('base64url');
    expect(() => own.redeem(`${forged}.${mac}`)).toThrow('signature does not match');
    expect(() => own.redeem('nodot')).toThrow('malformed');
  });

  it('refuses an expired ticket and forgets spent nonces once they expire', () => {
    let now = 0;
    const tickets = new ExecTickets({ key: randomBytes(32), ttlMs: 1_000, now: () => now });
    const late = tickets.issue(claims).ticket;
    const used = tickets.issue(claims).ticket;
    tickets.redeem(used);
    now = 1_000;
    expect(() => tickets.redeem(late)).toThrow('expired');
    expect(() => tickets.redeem(used)).toThrow('expired');
    expect((tickets as unknown as { spent: Map<string, number> }).spent.size).toBe(0);
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => new ExecTickets({ key: randomBytes(16) })).toThrow('32 bytes');
  });
});
