// The long-lived responses (watches, followed logs) an app has open. Each owns an AbortController;
// the app aborts them all before it closes, so `app.close()` never waits on a stream forever.
// Streams and keep-alive connections are also kept by the credential (token id) that opened them,
// so that revoking a credential ends what it has open at once (gantry node revoke).
import type { Socket } from 'node:net';

export class OpenStreams {
  private readonly open = new Set<AbortController>();
  private readonly byOwner = new Map<string, Set<AbortController>>();
  private readonly sockets = new Map<string, Set<Socket>>();
  /** The credentials seen on each connection (its one close listener clears them all). */
  private readonly socketOwners = new Map<Socket, Set<string>>();

  /** A controller for one stream, opened by the credential `owner` (a token id) if given; it removes itself once aborted. */
  add(owner?: string): AbortController {
    const ac = new AbortController();
    this.open.add(ac);
    let mine: Set<AbortController> | undefined;
    if (owner !== undefined) {
      mine = this.byOwner.get(owner) ?? new Set();
      this.byOwner.set(owner, mine);
      mine.add(ac);
    }
    ac.signal.addEventListener(
      'abort',
      () => {
        this.open.delete(ac);
        if (mine && owner !== undefined) {
          mine.delete(ac);
          if (mine.size === 0 && this.byOwner.get(owner) === mine) this.byOwner.delete(owner);
        }
      },
      { once: true },
    );
    return ac;
  }

  /**
   * Notes that `owner` sent a request over `socket` (a keep-alive connection it may use again).
   * One connection may carry many credentials (gantry sim's hollow nodes share a pool), so each
   * socket gets one close listener for all its owners, not one per owner.
   */
  noteSocket(owner: string, socket: Socket): void {
    let set = this.sockets.get(owner);
    if (!set) {
      set = new Set();
      this.sockets.set(owner, set);
    }
    if (set.has(socket)) return;
    set.add(socket);
    let owners = this.socketOwners.get(socket);
    if (owners) {
      owners.add(owner);
      return;
    }
    owners = new Set([owner]);
    this.socketOwners.set(socket, owners);
    const mine = owners;
    socket.once('close', () => {
      for (const o of mine) {
        const sockets = this.sockets.get(o);
        sockets?.delete(socket);
        if (sockets?.size === 0) this.sockets.delete(o);
      }
      this.socketOwners.delete(socket);
    });
  }

  get size(): number {
    return this.open.size;
  }

  abortAll(): void {
    for (const ac of [...this.open]) ac.abort();
  }

  /** Ends every stream and connection of a credential; returns how many were open. */
  closeOwner(owner: string): number {
    const streams = [...(this.byOwner.get(owner) ?? [])];
    const sockets = [...(this.sockets.get(owner) ?? [])];
    for (const ac of streams) ac.abort();
    for (const s of sockets) s.destroy();
    this.sockets.delete(owner);
    return streams.length + sockets.length;
  }
}
