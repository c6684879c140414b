import { describe, expect, it } from 'vitest';
import { forEachSliced, SLICE_MS } from './sliced.js';

function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // work that takes time
  }
}

describe('forEachSliced', () => {
  it('visits every item in order and lets the event loop run between slices', async () => {
    const seen: number[] = [];
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    try {
      // 200 items of 0.2 ms: 40 ms in all, eight slices or more.
      await forEachSliced(Array.from({ length: 200 }, (_, i) => i), (i) => {
        burn(0.2);
        seen.push(i);
      });
    } finally {
      clearInterval(tick);
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(turns).toBeGreaterThan(0);
  });

  it('runs a short pass in one go, and stops when the signal aborts between slices', async () => {
    let n = 0;
    const pass = forEachSliced([1, 2, 3], () => n++);
    expect(n).toBe(3); // no yield before the slice's time is up
    await pass;

    const stop = new AbortController();
    let visited = 0;
    const long = forEachSliced(Array.from({ length: 10_000 }), () => {
      visited++;
      if (visited === 64) burn(SLICE_MS + 1); // the slice ends at the next clock check
    }, stop.signal);
    stop.abort();
    await long;
    expect(visited).toBe(64);
  });
});
