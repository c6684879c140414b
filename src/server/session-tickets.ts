// TLS session tickets that outlive a restart. Node gives every TLS server random ticket keys of its
// own, so after a restart (or on another server of an HA cluster) no client can resume: every
// agent's watch and pooled connection comes back with a full handshake, the server signing and
// the client checking the certificate chain each time. At 5,000 nodes that was the simulator's
// largest cost while its nodes reconnected (Node's getPeerCertificate(true), run for every full
// handshake, was 27% of its CPU), and the server's signatures came on top.
//
// The keys are derived, per UTC day, from the data directory's ticket.key (HKDF-SHA256; 32 random
// bytes made at first start, 0600, never handed out): every server of the cluster (they share
// that file, ha-cluster.ts) and every restart on the same day has the same keys, and they change
// at midnight UTC (a ticket from the day before then gets a full handshake). A resumed session is
// trusted on the ticket alone (no certificate check), so ticket.key is worth what server.key is:
// both sit in the data dir, 0600. The API speaks TLS 1.3 only (app.ts), whose resumption still
// runs an ECDHE exchange (psk_dhe_ke), so a ticket key learnt later does not open recorded traffic.
import { hkdfSync } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long a ticket is good for (the server's sessionTimeout, seconds): the keys' own day at most. */
export const SESSION_TICKET_SECONDS = 24 * 60 * 60;

/**
 * The TLS session id context of the cluster's API servers: a session resumes only on a server
 * with the same one. Node's default is a hash of the process's command line, so a server
 * restarted with another --listen (or another server of the cluster) refused every session the
 * one before gave: a 5,000-node restart bench resumed none of its first ~800 handshakes.
 */
export function sessionIdContext(clusterId: string): string {
  return `gantry-api-${clusterId}`.slice(0, 32);
}

/** The 48 bytes Node's tls.Server takes as ticket keys (name, HMAC and AES keys) for one UTC day. */
export function sessionTicketKeys(secret: string, day: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gantry', `tls-session-tickets/${day}`, 48));
}

/** The UTC day number of a time (days since 1970-01-01). */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * Gives `server` the ticket keys of the current UTC day now and again each midnight; returns the
 * function that stops the timer.
 */
export function keepSessionTicketKeys(server: { setTicketKeys(keys: Buffer): void }, secret: string, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const set = (): void => {
    const day = utcDay(now());
    server.setTicketKeys(sessionTicketKeys(secret, day));
    // A second past midnight: a clock read a hair early must not set the same day again.
    timer = setTimeout(set, (day + 1) * DAY_MS - now() + 1000);
    timer.unref();
  };
  set();
  return () => clearTimeout(timer);
}
