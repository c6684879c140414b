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
//     (or it is refused again; a probe that fails otherwise hands over at once, one that hangs
//     after PROBE_MAX_MS). One agent retries a few times a second; a
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

/** An attempt admitted by OriginMemo.admit: when it started, and whether it is the probe. */
export interface Attempt {
  startedAt: number;
  probe: boolean;
}

export class OriginMemo {
  private readonly sessions = new Map<string, Buffer>();
  private readonly refused = new Map<string, Refusal>();
  /** When a connection to each origin was last made (refusals of attempts older than it are stale). */
  private readonly connectedAt = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The TLS session to resume with `origin`, if a connection to it was given one. */
  session(origin: string): Buffer | undefined {
    return this.sessions.get(origin);
  }

  noteSession(origin: string, session: Buffer): void {
    this.sessions.set(origin, session);
  }

  /**
   * Whether an attempt to `url` may go: `{ refused }`, an error to fail with at once while the
   * server refuses connections (the same code and syscall as a refusal, so callers treat it
   * alike), or the attempt (the probe, when the server refused before). Report how it ends with
   * noteFailure / noteConnected.
   */
  admit(url: URL): { refused: Error } | Attempt {
    const now = this.now();
    const r = this.refused.get(url.origin);
    if (!r) return { startedAt: now, probe: false };
    const ago = now - r.at;
    let why: string;
    if (ago < REFUSAL_MEMORY_MS) why = `not tried again within ${REFUSAL_MEMORY_MS} ms`;
    else if (r.probeSince !== undefined && now - r.probeSince < PROBE_MAX_MS) why = 'another attempt is finding out whether it listens again';
    else {
      r.probeSince = now;
      return { startedAt: now, probe: true };
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const refused = Object.assign(new Error(`connect ECONNREFUSED ${url.hostname}:${port} (refused ${Math.round(ago)} ms ago; ${why})`), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    return { refused };
  }

  /**
   * An admitted attempt to `origin` failed with `e`. A refusal starts (or renews) the refusal,
   * unless a connection was made since the attempt started; a probe that fails otherwise (an
   * abort, a timeout) lets the next attempt probe. Other failures say nothing either way.
   */
  noteFailure(origin: string, e: unknown, attempt: Attempt): void {
    const r = this.refused.get(origin);
    if ((e as { code?: unknown } | null)?.code === 'ECONNREFUSED') {
      if (attempt.startedAt < (this.connectedAt.get(origin) ?? -Infinity)) return;
      // A refusal of an older attempt leaves the probe in flight.
      const probeSince = r && !attempt.probe ? r.probeSince : undefined;
      this.refused.set(origin, { at: this.now(), probeSince });
    } else if (attempt.probe && r) r.probeSince = undefined;
  }

  /** A TCP connection to `origin` was made (or it answered): it is no longer refusing. */
  noteConnected(origin: string): void {
    this.connectedAt.set(origin, this.now());
    if (this.refused.size > 0) this.refused.delete(origin);
  }
}
