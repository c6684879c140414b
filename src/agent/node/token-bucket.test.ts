import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst through at once, then one operation per 1/rate seconds, in order', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 3 });
    const done: number[] = [];
    const start = Date.now();
    await Promise.all(Array.from({ length: 7 }, (_, i) => bucket.take().then(() => done.push(i))));
    const took = Date.now() - start;
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // 3 at once, 4 more at 20/s: at least ~200 ms (never faster than the rate allows).
    expect(took).toBeGreaterThanOrEqual(190);
  });

  it('refills with time and never beyond the burst (fake clock)', async () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, now: () => now });
    await bucket.take();
    await bucket.take();
    let third = false;
    const p = bucket.take().then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    expect(bucket.waiting).toBe(1);
    now += 10_000; // a long idle time refills at most `burst`
    await p;
    await bucket.take();
    let fourth = false;
    void bucket.take().then(() => (fourth = true), () => undefined);
    await Promise.resolve();
    expect(fourth).toBe(false);
    bucket.close();
  });

  it('rejects waiters and later calls once closed', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 });
    await bucket.take();
    const waiting = bucket.take();
    bucket.close();
    await expect(waiting).rejects.toThrow(/agent is stopping/);
    await expect(bucket.take()).rejects.toThrow(/agent is stopping/);
  });
});
