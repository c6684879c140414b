import { describe, expect, it } from 'vitest';
import { FireQueue } from './fire-queue.js';

function fakeTimers() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let id = 0;
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      timers.set(++id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (h: unknown) => timers.delete(h as number),
    pending: () => timers.size,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
  };
}

describe('FireQueue', () => {
  it('fires keys in time order with one timer, and a re-schedule replaces the old time', () => {
    const t = fakeTimers();
    const fired: string[] = [];
    const q = new FireQueue({ onFire: (k) => fired.push(`${k}@${t.now()}`), ...t });
    for (let i = 0; i < 1000; i++) q.schedule(`k${i}`, 1000 + ((i * 7919) % 1000));
    expect(t.pending()).toBe(1);
    q.schedule('a', 300);
    q.schedule('b', 200);
    q.schedule('a', 100); // moved earlier
    q.schedule('b', 400); // moved later
    q.remove('k0');
    t.advance(500);
    expect(fired).toEqual(['a@100', 'b@400']);
    t.advance(1500);
    expect(fired).toHaveLength(2 + 999);
    expect(t.pending()).toBe(0);
    expect(q.size).toBe(0);
  });

  it('stop() clears the timer; nothing fires afterwards', () => {
    const t = fakeTimers();
    const fired: string[] = [];
    const q = new FireQueue({ onFire: (k) => fired.push(k), ...t });
    q.schedule('a', 10);
    q.stop();
    t.advance(100);
    expect(fired).toEqual([]);
    expect(t.pending()).toBe(0);
  });
});
