import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LoopMonitor } from './loop-monitor.js';

/** A pino logger whose lines land in `lines` (parsed). */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a synchronous stretch, as a big unchunked pass would be
  }
}

describe('LoopMonitor', () => {
  it('logs a window with a synchronous stretch at warn, with its max, and keeps the run maximum', async () => {
    const { logger, lines } = capture();
    const monitor = new LoopMonitor({ logger, windowMs: 60_000, stallMs: 100 });
    try {
      await sleep(30);
      blockFor(250);
      await sleep(30);
      const stalled = monitor.report();
      expect(stalled?.maxMs).toBeGreaterThan(100);
      expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'event loop delay', maxMs: stalled?.maxMs, runMaxMs: stalled?.maxMs });

      await sleep(50);
      const quiet = monitor.report();
      // The next window starts empty: the stall is not counted twice, but the run's maximum stays.
      expect(quiet?.maxMs).toBeLessThan(stalled!.maxMs);
      expect(quiet?.runMaxMs).toBe(stalled?.maxMs);
    } finally {
      monitor.close();
    }
  });

  it('adds its owner’s counts to each window’s line', async () => {
    const { logger, lines } = capture();
    let n = 0;
    const monitor = new LoopMonitor({ logger, windowMs: 60_000, counts: () => ({ connections: ++n }) });
    try {
      await sleep(30);
      monitor.report();
      expect(lines.at(-1)).toMatchObject({ msg: 'event loop delay', connections: 1 });
    } finally {
      monitor.close();
    }
  });

  it('counts garbage collection pauses per window', async () => {
    const { logger } = capture();
    const monitor = new LoopMonitor({ logger, windowMs: 60_000 });
    try {
      // A young-generation collection or two: short-lived garbage.
      let keep = 0;
      for (let i = 0; i < 300_000; i++) keep += JSON.stringify({ i, s: 'x'.repeat(20) }).length;
      expect(keep).toBeGreaterThan(0);
      await sleep(20); // the observer hears of collections on a later turn
      const w = monitor.report();
      expect(w?.gcMs).toBeGreaterThan(0);
      expect(w?.gcMaxMs).toBeGreaterThan(0);
      expect(w!.gcMaxMs).toBeLessThanOrEqual(w!.gcMs + 0.1);
    } finally {
      monitor.close();
    }
  });
});
