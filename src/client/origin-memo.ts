// What a transport remembers about each server it connects to (by origin, `https://host:port`):
//   - the last TLS session a stream's connection was given, so the next stream resumes it: a
//     resumed handshake skips the certificate check (Node's getPeerCertificate(true) alone took
//     27% of a 5,000-node simulator's CPU while its watches came back after a server restart) and
//     the server's signature. The pool's calls have the same from https.Agent's own session cache.
//   - when the server last refused a connection: for REFUSAL_MEMORY_MS after, calls and streams to
//     it fail at once with the same ECONNREFUSED, on no socket. One agent retries a few times a
//     second; a simulator's 5,000 agents on one transport made ~2,000 attempts a second while the
//     server restarted, each a TLS socket set up and torn down (38% of the simulator's CPU then).
//     The first attempt after the window is a real one; an answer clears the memory.

/** How long after a refused connection the next attempt to that server fails without trying. */
export const REFUSAL_MEMORY_MS = 250;

export class OriginMemo {
  private readonly sessions = new Map<string, Buffer>();
  private readonly refusedAt = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The TLS session to resume with `origin`, if a connection to it was given one. */
  session(origin: string): Buffer | undefined {
    return this.sessions.get(origin);
  }

  noteSession(origin: string, session: Buffer): void {
    this.sessions.set(origin, session);
  }

  /**
   * An error to fail with at once when `origin` refused a connection less than REFUSAL_MEMORY_MS
   * ago (the same code and syscall as the refusal, so callers treat it alike); else undefined.
   */
  recentRefusal(url: URL): Error | undefined {
    const at = this.refusedAt.get(url.origin);
    if (at === undefined) return undefined;
    const ago = this.now() - at;
    if (ago >= REFUSAL_MEMORY_MS) return undefined;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return Object.assign(new Error(`connect ECONNREFUSED ${url.hostname}:${port} (refused ${Math.round(ago)} ms ago; not tried again within ${REFUSAL_MEMORY_MS} ms)`), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
  }

  /** A call or stream to `origin` failed with `e`: a refused connection is remembered. */
  noteFailure(origin: string, e: unknown): void {
    if ((e as { code?: unknown } | null)?.code === 'ECONNREFUSED') this.refusedAt.set(origin, this.now());
  }

  /** `origin` answered: it is no longer refusing. */
  noteAnswer(origin: string): void {
    if (this.refusedAt.size > 0) this.refusedAt.delete(origin);
  }
}
