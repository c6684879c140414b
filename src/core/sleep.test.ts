import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep, untilAborted } from './sleep.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('sleep', () => {
  it('resolves after the delay and leaves no timer behind', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = sleep(1000, new AbortController().signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves as soon as the signal aborts and clears its timer', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    expect(vi.getTimerCount()).toBe(1);
    ac.abort();
    await p;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves at once, without a timer, when the signal has already aborted', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    ac.abort();
    await sleep(60_000, ac.signal);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('untilAborted', () => {
  it('waits for the abort', async () => {
    const ac = new AbortController();
    let done = false;
    const p = untilAborted(ac.signal).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    ac.abort();
    await p;
    expect(done).toBe(true);
  });
});
