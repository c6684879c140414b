// Synchronous writes share the event loop with everything else the server does: a controller that
// awaits 500 writes in a row runs them all in one loop turn (an awaited write that finished at once
// resumes its caller as a microtask), and no request, heartbeat or timer is served meanwhile. The
// budget: from the first write of a turn, writes run at once until `budgetMs` of wall clock have
// passed (whatever else ran meanwhile counts too); later writes wait, in call order, for a
// setImmediate: after the callbacks of the current loop phase (the sockets being served), and
// with the next poll for sockets and the timers between one batch and the next.
//
// Writes still run one at a time and in the order they were called: a write called while others
// wait goes behind them, even when the budget would let it through.
import { setImmediate } from 'node:timers';

/** Wall-clock time writes may take in one loop turn before the rest wait for the next. */
export const DEFAULT_TURN_BUDGET_MS = 10;

interface Queued {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class TurnBudget {
  /** When the first write of this turn ran (performance.now()); undefined between turns. */
  private turnStart: number | undefined;
  private readonly queue: Queued[] = [];
  /** Writes that waited for a later turn: for tests and metrics. */
  deferred = 0;

  constructor(
    private readonly budgetMs: number = DEFAULT_TURN_BUDGET_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Runs `write` now when this turn's budget allows and nothing waits, else in a later turn (in
   * call order). Its result or exception comes back through the promise either way.
   */
  run<T>(write: () => T): Promise<T> {
    if (this.queue.length === 0 && this.admit()) {
      // An async wrapper: a throw becomes the promise's rejection, as for a queued write.
      return (async () => write())();
    }
    this.deferred++;
    return new Promise<T>((resolve, reject) => this.queue.push({ run: write, resolve: resolve as (v: unknown) => void, reject }));
  }

  /**
   * Runs `write` now whatever the budget and the queue, counting it against this turn: for a write
   * that must follow a check made in the same tick (SqliteStore.txnNow).
   */
  runNow<T>(write: () => T): T {
    this.admit();
    return write();
  }

  /** Writes waiting for a later turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether a write may run now; the first one of a turn starts its clock. */
  private admit(): boolean {
    if (this.turnStart === undefined) {
      this.turnStart = this.clock();
      // After this phase's callbacks; with the next poll and timers between batches.
      setImmediate(this.nextTurn);
      return true;
    }
    return this.clock() - this.turnStart < this.budgetMs;
  }

  /** Runs every waiting write now, in order (the store closes: what was accepted is written). */
  drainNow(): void {
    while (this.queue.length > 0) {
      const q = this.queue.shift()!;
      try {
        q.resolve(q.run());
      } catch (e) {
        q.reject(e);
      }
    }
  }

  private readonly nextTurn = (): void => {
    this.turnStart = undefined;
    // The first queued write always runs, so one longer than the budget cannot stall the queue.
    while (this.queue.length > 0 && this.admit()) {
      const q = this.queue.shift()!;
      try {
        q.resolve(q.run());
      } catch (e) {
        q.reject(e);
      }
    }
  };
}
