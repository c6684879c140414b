import { describe, expect, it } from 'vitest';
import { isAppError } from '../core/index.js';
import { candidateLimit, CandidateWalk } from './limit.js';
import { SeededRandom } from './random.js';

const visitAll = (walk: CandidateWalk, want: number, accept: (i: number) => boolean = () => true) => {
  const seen: number[] = [];
  const result = walk.walk(want, (i) => {
    seen.push(i);
    return accept(i);
  });
  return { seen, ...result };
};

describe('candidateLimit', () => {
  it('is at least 8 and grows as 2 x ceil(log2 N)', () => {
    expect(candidateLimit(0, undefined, false)).toBe(8);
    expect(candidateLimit(12, undefined, false)).toBe(8);
    expect(candidateLimit(1000, undefined, false)).toBe(20);
    expect(candidateLimit(10_000, undefined, false)).toBe(28);
  });

  it('doubles when spread is asked, and honours an explicit size', () => {
    expect(candidateLimit(1000, undefined, true)).toBe(40);
    expect(candidateLimit(1000, 3, false)).toBe(3);
    expect(candidateLimit(1000, 3, true)).toBe(6);
  });

  it('rejects a sample size that is not a positive whole number', () => {
    for (const bad of [0, -1, 2.5]) {
      expect(() => candidateLimit(10, bad, false)).toThrow(/sampleSize/);
      try {
        candidateLimit(10, bad, false);
      } catch (e) {
        expect(isAppError(e, 'INVALID')).toBe(true);
      }
    }
  });
});

describe('CandidateWalk', () => {
  it('offers every node exactly once when nothing is accepted', () => {
    const { seen, examined, accepted } = visitAll(new CandidateWalk(50, new SeededRandom(1)), 10, () => false);
    expect(examined).toBe(50);
    expect(accepted).toBe(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('stops as soon as `want` nodes were accepted, however large the cluster', () => {
    const { examined, accepted } = visitAll(new CandidateWalk(10_000, new SeededRandom(1)), 8);
    expect(examined).toBe(8);
    expect(accepted).toBe(8);
    // Every other node rejected: about twice as many examined, still nowhere near N.
    const sparse = visitAll(new CandidateWalk(10_000, new SeededRandom(1)), 8, (i) => i % 2 === 0);
    expect(sparse.accepted).toBe(8);
    expect(sparse.examined).toBeLessThan(100);
  });

  it('continues where the previous walk stopped, wrapping around', () => {
    const walk = new CandidateWalk(10, new SeededRandom(9));
    const first = visitAll(walk, 4).seen;
    const second = visitAll(walk, 4).seen;
    const third = visitAll(walk, 4).seen;
    expect(new Set([...first, ...second]).size).toBe(8);
    expect(third.slice(2)).toEqual(first.slice(0, 2));
  });

  it('visits in a seeded order: same seed same order, other seeds differ', () => {
    const order = (seed: number) => visitAll(new CandidateWalk(30, new SeededRandom(seed)), 30).seen;
    expect(order(5)).toEqual(order(5));
    expect(order(5)).not.toEqual(order(6));
    expect(order(5)).not.toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('handles an empty cluster', () => {
    expect(visitAll(new CandidateWalk(0, new SeededRandom(1)), 8)).toEqual({ seen: [], examined: 0, accepted: 0 });
  });
});

describe('CandidateWalk over candidates, with removal', () => {
  it('offers only the candidates, each once per full walk', () => {
    const walk = new CandidateWalk(10, new SeededRandom(3), [1, 4, 7]);
    const { seen, examined } = visitAll(walk, 100);
    expect(seen.sort()).toEqual([1, 4, 7]);
    expect(examined).toBe(3);
  });

  it('never offers a removed node again, and still offers every other one', () => {
    const walk = new CandidateWalk(50, new SeededRandom(9));
    const removed = new Set<number>();
    for (let round = 0; round < 40; round++) {
      const { seen } = visitAll(walk, 3);
      for (const i of seen) expect(removed.has(i)).toBe(false);
      const victim = seen[0]!;
      walk.remove(victim);
      walk.remove(victim); // twice is harmless
      removed.add(victim);
      expect(walk.size).toBe(50 - removed.size);
    }
    const { seen } = visitAll(walk, 1000);
    expect(new Set(seen).size).toBe(10);
    expect(seen.every((i) => !removed.has(i))).toBe(true);
  });

  it('a walk with every node removed offers nothing', () => {
    const walk = new CandidateWalk(3, new SeededRandom(1));
    for (const i of [0, 1, 2]) walk.remove(i);
    expect(visitAll(walk, 5)).toMatchObject({ seen: [], examined: 0 });
  });
});
