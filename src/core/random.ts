// One small seeded PRNG (mulberry32) for everything that must repeat run to run: the scheduler's
// candidate sample, the fake driver's failures, test builders. Not for anything secret.

export type RandomFn = () => number;

/** A generator of floats in [0, 1); any number is a usable seed (folded into 32 bits). */
export function seededRandom(seed: number): RandomFn {
  let a = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit seed from a string (FNV-1a), for when no seed is given. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
