// What a transport remembers about each server it connects to (by origin, `https://host:port`):
//   - the last TLS session a connection to it was given, which the next connection (a call's or a
//     stream's) offers: a resumed handshake skips the certificate check (Node's
//     getPeerCertificate(true) alone took 27% of a 5,000-node simulator's CPU while its watches
//     came back after a server restart) and the server's signature. https.Agent's own cache is no
//     use there: it drops its session whenever a pooled socket fails, as every one does while the
//     server restarts.
//   - whether the server is refusing connections: for REFUSAL_MEMORY_MS after a refusal, calls
//     and streams to it fail at once with the same ECONNREFUSED, on no socket; after that one
//     attempt goes (a probe) and the others keep failing at once until its TCP connection is made
//     (or refused again, or PROBE_MAX_MS pass). One agent retries a few times a second; a
//     simulator's 5,000 agents on one transport made ~2,000 attempts a second while the server
//     restarted, each a TLS socket set up and torn down (38% of the simulator's CPU then), and
//     a window alone let every retry of a late event-loop turn through at once.

/** How long after a refused connection the next attempt to that server fails without trying. */
export const REFUSAL_MEMORY_MS = 250;
/** How long a probe's connection may take before another attempt may probe instead. */
export const PROBE_MAX_MS = 2_000;

interface Refusal {
  at: number;
  /** When the attempt now probing the server started (undefined: none). */
  probeSince: number | undefined;
}

export class OriginMemo {
  private readonly sessions = new Map<string, Buffer>();
  private readonly refused = new Map<string, Refusal>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The TLS session to resume with `origin`, if a connection to it was given one. */
  session(origin: string): Buffer | undefined {
    return this.sessions.get(origin);
  }

  noteSession(origin: string, session: Buffer): void {
    this.sessions.set(origin, session);
  }

  /**
   * An error to fail with at once while `origin` refuses connections (the same code and syscall
   * as the refusal, so callers treat it alike); undefined when this attempt should go: the server
   * is not known to refuse, or this attempt is the probe.
   */
  recentRefusal(url: URL): Error | undefined {
    const r = this.refused.get(url.origin);
    if (!r) return undefined;
    const now = this.now();
    const ago = now - r.at;
    let why: string;
    if (ago < REFUSAL_MEMORY_MS) why = `not tried again within ${REFUSAL_MEMORY_MS} ms`;
    else if (r.probeSince !== undefined && now - r.probeSince < PROBE_MAX_MS) why = 'another attempt is finding out whether it listens again';
    else {
      r.probeSince = now;
      return undefined;
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return Object.assign(new Error(`connect ECONNREFUSED ${url.hostname}:${port} (refused ${Math.round(ago)} ms ago; ${why})`), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
  }

  /**
   * A call or stream to `origin` failed with `e`: a refused connection is remembered. Other
   * failures say nothing either way (an abort, a timeout before any connection): only a made
   * connection (noteConnected) ends the refusal, and a probe that fails otherwise is replaced
   * after PROBE_MAX_MS.
   */
  noteFailure(origin: string, e: unknown): void {
    if ((e as { code?: unknown } | null)?.code === 'ECONNREFUSED') this.refused.set(origin, { at: this.now(), probeSince: undefined });
  }

  /** A TCP connection to `origin` was made (or it answered): it is no longer refusing. */
  noteConnected(origin: string): void {
    if (this.refused.size > 0) this.refused.delete(origin);
  }
}
