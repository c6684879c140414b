// A small seeded PRNG (mulberry32): the scheduler's only source of randomness, so the same seed
// gives the same plan. Not for anything secret.

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n); 0 when n <= 0. */
  int(n: number): number;
}

export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    // Fold non-integer and out-of-range seeds into 32 bits so every number is a usable seed.
    this.state = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n);
  }
}
