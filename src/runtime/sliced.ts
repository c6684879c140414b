// Passes over big sets that leave the event loop free: a pass over the whole cache (an informer's
// resync, a relist's handler calls, a scrape's counts) yields after SLICE_MS. At 100,000 instances
// one synchronous resync held the server's loop for most of a second, and every request,
// heartbeat and watch write waited behind it.

/** How long one slice of a pass may run before it yields, ms. */
export const SLICE_MS = 5;
/** Items between two looks at the clock in a sliced pass. */
const ITEMS_PER_CLOCK_CHECK = 64;

/**
 * Calls `fn` on each item, yielding to the event loop (setImmediate: pending I/O runs first)
 * whenever the current slice has taken SLICE_MS. Stops early when `signal` aborts.
 */
export async function forEachSliced<T>(items: Iterable<T>, fn: (item: T) => void, signal?: AbortSignal): Promise<void> {
  let sliceStart = performance.now();
  let n = 0;
  for (const item of items) {
    fn(item);
    if (++n % ITEMS_PER_CLOCK_CHECK !== 0 || performance.now() - sliceStart < SLICE_MS) continue;
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) return;
    sliceStart = performance.now();
  }
}
