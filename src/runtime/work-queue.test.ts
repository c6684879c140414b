import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('collapses duplicate keys that are waiting', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    const seen: string[] = [];
    const ac = new AbortController();
    const run = q.run(async (key) => {
      seen.push(key);
      if (seen.length === 2) ac.abort();
    }, ac.signal);
    await run;
    expect(seen).toEqual(['a', 'b']);
  });

  it('never hands one key to two workers; a key re-added in flight runs again afterwards', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    const gate = deferred();
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const run = q.run(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        runs++;
        if (runs === 1) await gate.promise;
        inFlight--;
        if (runs === 2) ac.abort();
      },
      ac.signal,
      4,
    );
    q.add('a');
    await new Promise((r) => setTimeout(r, 10));
    q.add('a'); // while the first run is blocked
    q.add('a');
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toBe(1);
    gate.resolve();
    await run;
    expect(runs).toBe(2);
    expect(maxInFlight).toBe(1);
  });

  it('addAfter delivers the key only after the delay', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    const start = Date.now();
    let at = 0;
    q.addAfter('k', 60);
    await q.run(async () => {
      at = Date.now() - start;
      ac.abort();
    }, ac.signal);
    expect(at).toBeGreaterThanOrEqual(55);
  });

  it('backs off exponentially per key up to the cap, and forget() starts over', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([0, 1, 2, 3, 4, 5].map((n) => q.backoffFor(n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    q.addRateLimited('x');
    q.addRateLimited('x');
    q.addRateLimited('y');
    expect(q.numRequeues('x')).toBe(2);
    expect(q.numRequeues('y')).toBe(1);
    q.forget('x');
    expect(q.numRequeues('x')).toBe(0);
    q.shutDown();
  });

  it('retries a failing handler with growing delays, then forgets the key on success', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000 });
    const ac = new AbortController();
    const times: number[] = [];
    const errors: string[] = [];
    q.add('k');
    await q.run(
      async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error(`boom ${times.length}`);
        ac.abort();
      },
      ac.signal,
      1,
      (_key, err) => errors.push((err as Error).message),
    );
    expect(errors).toEqual(['boom 1', 'boom 2', 'boom 3']);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(8);
    expect(gaps[2]).toBeGreaterThanOrEqual(35); // 10, 20, 40 ms
    expect(q.numRequeues('k')).toBe(0);
  });

  it('honours a handler asking to be requeued later', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    let runs = 0;
    q.add('k');
    await q.run(async () => {
      runs++;
      if (runs === 2) ac.abort();
      return { requeueAfterMs: 20 };
    }, ac.signal);
    expect(runs).toBe(2);
  });

  it('stops on abort with a long timer pending, and ignores adds afterwards', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    let runs = 0;
    q.addAfter('later', 60_000);
    const run = q.run(async () => {
      runs++;
    }, ac.signal);
    setTimeout(() => ac.abort(), 10);
    const t0 = Date.now();
    await run;
    expect(Date.now() - t0).toBeLessThan(1000);
    q.add('x');
    expect(q.length).toBe(0);
    expect(runs).toBe(0);
  });
});

describe('WorkQueue at scale', () => {
  it('hands out 100,000 queued keys in FIFO order (head index, no O(n) shift per key)', async () => {
    const n = 100_000;
    const q = new WorkQueue();
    for (let i = 0; i < n; i++) q.add(`k${i}`);
    const ac = new AbortController();
    let inOrder = true;
    let seen = 0;
    await q.run(async (key) => {
      if (key !== `k${seen}`) inOrder = false;
      if (++seen === n) ac.abort();
    }, ac.signal);
    expect(seen).toBe(n);
    expect(inOrder).toBe(true);
    expect(q.length).toBe(0);
  }, 20_000);

  it('lets the event loop run while it works through a long queue of handlers that never wait', async () => {
    const q = new WorkQueue({ sliceMs: 5 });
    for (let i = 0; i < 100; i++) q.add(`k${i}`);
    const ac = new AbortController();
    let turns = 0;
    let turnsWhenDone = 0;
    const spin = () => {
      turns++;
      if (!ac.signal.aborted) setImmediate(spin);
    };
    setImmediate(spin);
    let handled = 0;
    await q.run(async () => {
      const until = performance.now() + 1; // 1 ms of synchronous work, as a reconcile on an in-memory store
      while (performance.now() < until);
      if (++handled === 100) {
        turnsWhenDone = turns;
        ac.abort();
      }
    }, ac.signal);
    // 100 ms of work in 5 ms slices: the spinner ran in between about 20 times (0 without slicing).
    expect(turnsWhenDone).toBeGreaterThanOrEqual(10);
  });
});
