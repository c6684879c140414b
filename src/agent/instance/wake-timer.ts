// One timer that wakes its owner at the earliest time asked for: an instance runner asks for
// every pending restart and retry, and recomputes on each pass, so later times are not lost.
export class WakeTimer {
  private pending: { timer: NodeJS.Timeout; at: number } | undefined;

  /** Once `signal` fires, the pending wake-up is cancelled and no new one is set. */
  constructor(
    private readonly onWake: () => void,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', () => this.cancel(), { once: true });
  }

  /** Wakes at `at` (epoch ms) unless an earlier wake-up is already due. */
  at(at: number): void {
    if (this.signal?.aborted) return;
    if (this.pending && this.pending.at <= at && this.pending.at > Date.now()) return;
    this.cancel();
    const timer = setTimeout(() => {
      this.pending = undefined;
      this.onWake();
    }, Math.max(0, at - Date.now()));
    this.pending = { timer, at };
  }

  cancel(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
