// The long-lived responses (watches, followed logs) an app has open. Each owns an AbortController;
// the app aborts them all before it closes, so `app.close()` never waits on a stream forever.
export class OpenStreams {
  private readonly open = new Set<AbortController>();

  /** A controller for one stream; it removes itself from the set once aborted. */
  add(): AbortController {
    const ac = new AbortController();
    this.open.add(ac);
    ac.signal.addEventListener('abort', () => this.open.delete(ac), { once: true });
    return ac;
  }

  get size(): number {
    return this.open.size;
  }

  abortAll(): void {
    for (const ac of [...this.open]) ac.abort();
  }
}
