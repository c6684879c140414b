import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RestartBackoff, formatDelay } from './restart-backoff.js';

describe('RestartBackoff', () => {
  it('doubles from the base up to the cap', () => {
    const b = new RestartBackoff({ baseMs: 1000, capMs: 300_000 });
    const delays = Array.from({ length: 11 }, () => b.next());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000]);
  });

  it('starts over after a run of at least resetAfterMs', () => {
    const b = new RestartBackoff({ baseMs: 10, capMs: 1000, resetAfterMs: 600_000 });
    b.next();
    b.next();
    expect(b.next(599_999)).toBe(40);
    expect(b.streak).toBe(3);
    expect(b.next(600_000)).toBe(10);
    // The long run forgave the earlier failures: the one that ended it is the first in a row.
    expect(b.streak).toBe(1);
  });

  it('never exceeds the cap and never shrinks without a reset (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 200 }), (base, cap, n) => {
        const b = new RestartBackoff({ baseMs: base, capMs: cap });
        let prev = 0;
        for (let i = 0; i < n; i++) {
          const d = b.next();
          expect(d).toBeLessThanOrEqual(cap);
          expect(d).toBeGreaterThanOrEqual(prev);
          prev = d;
        }
      }),
    );
  });

  it('formats delays as status messages show them', () => {
    expect([formatDelay(20), formatDelay(8000), formatDelay(300_000), formatDelay(90_000)]).toEqual(['20ms', '8s', '5m0s', '1m30s']);
  });
});
