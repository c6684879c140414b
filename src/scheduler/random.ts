// The scheduler's only source of randomness, so the same seed gives the same plan: core's
// seeded generator behind the small interface the stages use.
import { seededRandom, type RandomFn } from '../core/index.js';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n); 0 when n <= 0. */
  int(n: number): number;
}

export class SeededRandom implements Random {
  private readonly gen: RandomFn;

  constructor(seed: number) {
    this.gen = seededRandom(seed);
  }

  next(): number {
    return this.gen();
  }

  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n);
  }
}
