import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchFlusher } from './batch-flusher.js';

/** A flusher over a counter of waiting items, with a server that fails while `down` is set. */
function aFlusher(opts: { intervalMs?: number; maxRetryDelayMs?: number; minSpacingMs?: number; skipOnTimer?: () => boolean } = {}) {
  const state = { waiting: 0, down: false, sends: [] as number[] };
  const flusher: BatchFlusher = new BatchFlusher({
    intervalMs: opts.intervalMs ?? 100,
    maxRetryDelayMs: opts.maxRetryDelayMs ?? 450,
    minSpacingMs: opts.minSpacingMs === undefined ? undefined : () => opts.minSpacingMs!,
    hasWork: () => state.waiting > 0,
    send: (onTimer) => {
      if (state.waiting === 0 || (onTimer && opts.skipOnTimer?.())) return undefined;
      state.sends.push(Date.now());
      if (state.down) {
        flusher.failed();
      } else {
        state.waiting = 0;
        flusher.succeeded();
      }
      return Promise.resolve();
    },
  });
  const add = (): void => {
    state.waiting++;
    flusher.schedule();
  };
  return { flusher, state, add };
}

describe('BatchFlusher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('arms no timer while nothing waits, and one when something does', async () => {
    const { flusher, state, add } = aFlusher();
    flusher.start();
    flusher.schedule();
    expect(vi.getTimerCount()).toBe(0);
    add();
    add();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(state.sends).toEqual([100]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('doubles the wait after each failure up to the cap, and goes back to the interval on success', async () => {
    const { flusher, state, add } = aFlusher({ intervalMs: 100, maxRetryDelayMs: 450 });
    flusher.start();
    state.down = true;
    add();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 450 + 450);
    expect(state.sends).toEqual([100, 300, 700, 1150, 1600]);
    expect(flusher.failures).toBe(5);
    state.down = false;
    await vi.advanceTimersByTimeAsync(450);
    expect(flusher.failures).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    add();
    await vi.advanceTimersByTimeAsync(100);
    expect(state.sends).toEqual([100, 300, 700, 1150, 1600, 2050, 2150]);
  });

  it('spaces sends on the timer by minSpacingMs while changes keep coming, and sends after the interval after a quiet spell', async () => {
    const { flusher, state, add } = aFlusher({ intervalMs: 100, minSpacingMs: 400 });
    flusher.start();
    add();
    await vi.advanceTimersByTimeAsync(150);
    add(); // 50 ms after the first send: waits until 400 ms after it
    await vi.advanceTimersByTimeAsync(400);
    expect(state.sends).toEqual([100, 500]);
    await vi.advanceTimersByTimeAsync(1000); // quiet
    add();
    await vi.advanceTimersByTimeAsync(100);
    expect(state.sends).toEqual([100, 500, 1650]);
  });

  it('re-arms the timer when a send on it declines, and flush() sends regardless', async () => {
    let skip = true;
    const { flusher, state, add } = aFlusher({ intervalMs: 100, skipOnTimer: () => skip });
    flusher.start();
    add();
    await vi.advanceTimersByTimeAsync(250);
    expect(state.sends).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    skip = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(state.sends).toEqual([300]);
    skip = true;
    add();
    await flusher.flush();
    expect(state.sends).toEqual([300, 350]);
  });

  it('stop makes one final flush and arms nothing after it', async () => {
    const { flusher, state, add } = aFlusher();
    flusher.start();
    add();
    expect(vi.getTimerCount()).toBe(1);
    state.down = true;
    await flusher.stop();
    expect(state.sends).toEqual([0]);
    expect(vi.getTimerCount()).toBe(0);
    add();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(state.sends).toEqual([0]);
  });

  it('never runs two sends at once: a flush waits for the one under way', async () => {
    let release: () => void = () => undefined;
    let running = 0;
    let most = 0;
    const flusher = new BatchFlusher({
      intervalMs: 100,
      maxRetryDelayMs: 1000,
      hasWork: () => true,
      send: () => {
        running++;
        most = Math.max(most, running);
        return new Promise<void>((resolve) => {
          release = () => {
            running--;
            resolve();
          };
        });
      },
    });
    const first = flusher.flush();
    const second = flusher.flush();
    await vi.advanceTimersByTimeAsync(0);
    release();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    release();
    await second;
    expect(most).toBe(1);
  });
});
