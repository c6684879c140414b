// Lets at most a few callers through per event-loop turn; the others go in later turns, in the
// order they came. The transport paces new stream connections with it: a simulator's 5,000 watches
// coming back after a server restart each set up a TLS socket (about 2 ms of CPU) as their retry
// timers fired, and timers that came due meanwhile ran in the same pass: one 13.4 s stretch in
// which no answer was read, so heartbeats waited 20 s for a slot and the server marked nodes lost.
// Paced, the same sockets are set up between reads of the answers (the poll phase runs between
// two turns), and nothing waits on a number of connections in flight (no cap on throughput).

/** How many callers may pass in one turn by default. */
export const DEFAULT_PER_TURN = 8;

interface Waiter {
  resolve: () => void;
  /** Set when its signal aborted: resolved already, skipped by the pump. */
  gone: boolean;
}

export class TurnPacer {
  private passed = 0;
  private readonly waiting: Waiter[] = [];
  private head = 0;
  private scheduled = false;

  constructor(readonly perTurn: number = DEFAULT_PER_TURN) {
    if (!Number.isInteger(perTurn) || perTurn < 1) throw new RangeError(`TurnPacer perTurn must be a whole number above 0, not ${perTurn}`);
  }

  /** Callers waiting for a later turn. */
  get queued(): number {
    let n = 0;
    for (let i = this.head; i < this.waiting.length; i++) if (!this.waiting[i]!.gone) n++;
    return n;
  }

  /**
   * Undefined when the caller may go in this turn (no await needed), else a promise that
   * resolves in a later turn, or at once when `signal` aborts (the caller then fails as it would
   * have with an aborted signal).
   */
  admit(signal?: AbortSignal): Promise<void> | undefined {
    if (this.passed < this.perTurn && this.head === this.waiting.length) {
      this.passed++;
      this.schedule();
      return undefined;
    }
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { resolve, gone: false };
      const onAbort = (): void => {
        waiter.gone = true;
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(waiter);
      this.schedule();
    });
  }

  /** A new turn starts in the check phase after this one's I/O: its budget is full again. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    this.passed = 0;
    while (this.passed < this.perTurn && this.head < this.waiting.length) {
      const w = this.waiting[this.head++]!;
      if (w.gone) continue;
      this.passed++;
      w.resolve();
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // Callers released now go in this turn; the next turn's budget (and any waiter left) needs another pump.
    if (this.passed > 0) this.schedule();
  }
}
