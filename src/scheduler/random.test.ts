import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

const draw = (seed: number, n: number) => {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => r.next());
};

describe('SeededRandom', () => {
  it('repeats its sequence for the same seed', () => {
    expect(draw(42, 20)).toEqual(draw(42, 20));
  });

  it('gives different sequences for different seeds', () => {
    expect(draw(1, 5)).not.toEqual(draw(2, 5));
  });

  it('draws floats in [0, 1)', () => {
    for (const x of draw(7, 10_000)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('int(n) covers every value in [0, n) and nothing else', () => {
    const r = new SeededRandom(3);
    const seen = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const v = r.int(10);
      expect(Number.isInteger(v) && v >= 0 && v < 10).toBe(true);
      seen[v] = (seen[v] ?? 0) + 1;
    }
    // Roughly uniform: each bucket near 1,000.
    for (const c of seen) expect(c).toBeGreaterThan(850);
  });

  it('int(0) is 0 and odd seeds (negative, fractional) still work', () => {
    expect(new SeededRandom(1).int(0)).toBe(0);
    expect(draw(-5, 3)).toEqual(draw(-5, 3));
    expect(draw(1.9, 3)).toEqual(draw(1, 3));
  });
});
