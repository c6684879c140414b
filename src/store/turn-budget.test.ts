import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite-store.js';
import { TurnBudget } from './turn-budget.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TurnBudget', () => {
  it('runs writes at once while the turn has budget left', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    const ran: number[] = [];
    const a = budget.run(() => ran.push(1));
    const b = budget.run(() => ran.push(2));
    // Synchronously, before any await.
    expect(ran).toEqual([1, 2]);
    await Promise.all([a, b]);
    expect(budget.deferred).toBe(0);
  });

  it('defers writes past the budget to a later turn, in call order, after what the loop had waiting', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    const ran: string[] = [];
    void budget.run(() => {
      ran.push('w1');
      clock.advance(11);
    });
    const w2 = budget.run(() => ran.push('w2'));
    const w3 = budget.run(() => ran.push('w3'));
    // Something the loop had to do: it runs before the deferred writes.
    const other = new Promise<void>((resolve) => setTimeout(() => (ran.push('timer'), resolve()), 0));
    expect(ran).toEqual(['w1']);
    expect(budget.waiting).toBe(2);
    await Promise.all([w2, w3, other]);
    expect(ran.indexOf('w2')).toBeLessThan(ran.indexOf('w3'));
    expect(budget.deferred).toBe(2);
  });

  it('keeps call order: a write called while others wait goes behind them, even in a fresh turn', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    const ran: string[] = [];
    void budget.run(() => clock.advance(20));
    const late = budget.run(() => ran.push('queued first'));
    await nextTurn(); // a new turn has begun and drained the queue
    const after = budget.run(() => ran.push('called later'));
    await Promise.all([late, after]);
    expect(ran).toEqual(['queued first', 'called later']);
  });

  it('puts a write called while the queue drains behind the ones still waiting', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    const ran: string[] = [];
    void budget.run(() => clock.advance(20));
    let inner: Promise<unknown> | undefined;
    const a = budget.run(() => {
      ran.push('a');
      // Called from inside the drain, with budget left and 'b' still queued.
      inner = budget.run(() => ran.push('c'));
    });
    const b = budget.run(() => ran.push('b'));
    await Promise.all([a, b]);
    await inner;
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('runs one queued write per turn even when each takes longer than the whole budget', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    const writes = Array.from({ length: 5 }, (_, i) => budget.run(() => (clock.advance(50), i)));
    expect(await Promise.all(writes)).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands a write that throws its error, now or later, and goes on with the rest', async () => {
    const clock = manualClock();
    const budget = new TurnBudget(10, clock.now);
    await expect(
      budget.run(() => {
        throw new Error('conflict now');
      }),
    ).rejects.toThrow('conflict now');
    void budget.run(() => clock.advance(20));
    const failing = budget.run(() => {
      throw new Error('conflict later');
    });
    const next = budget.run(() => 'next');
    await expect(failing).rejects.toThrow('conflict later');
    await expect(next).resolves.toBe('next');
  });
});

describe('SqliteStore writes and the event loop', () => {
  const config = (name: string, i: number) => ({ apiVersion: 'gantry/v1' as const, kind: 'Config' as const, metadata: { name, namespace: 'default' }, spec: { data: { i: String(i) } } });

  it('commits writes called without waiting in the order they were called, across turns', async () => {
    const store = openSqliteStore(':memory:', { writeTurnBudgetMs: 0.01 });
    try {
      const made = await Promise.all(Array.from({ length: 500 }, (_, i) => store.create(config(`o-${i}`, i))));
      expect(store.deferredWrites).toBeGreaterThan(0);
      const revisions = made.map((c) => c.metadata.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(new Set(revisions).size).toBe(500);
    } finally {
      await store.close();
    }
  });

  it('writes what was accepted before close, even when it waited for a later turn', async () => {
    const store = openSqliteStore(':memory:', { writeTurnBudgetMs: 0.01 });
    const writes = Array.from({ length: 200 }, (_, i) => store.create(config(`w-${i}`, i)));
    expect(store.deferredWrites).toBeGreaterThan(0);
    await store.close();
    const done = await Promise.allSettled(writes);
    expect(done.filter((d) => d.status === 'rejected')).toEqual([]);
  });

  it('runs txnNow at once, ahead of writes waiting for the next turn (the scheduler binds what it just checked)', async () => {
    const store = openSqliteStore(':memory:', { writeTurnBudgetMs: 0.01 });
    try {
      // Enough writes that some wait for a later turn.
      const queued = Array.from({ length: 200 }, (_, i) => store.create(config(`q-${i}`, i)));
      expect(store.deferredWrites).toBeGreaterThan(0);
      const before = await store.currentRevision();
      const [now] = await store.txnNow([{ op: 'create', object: config('now', -1) }]);
      expect(now!.object.metadata.revision).toBeLessThanOrEqual(before + 1);
      const later = await Promise.all(queued);
      expect(Math.max(...later.map((c) => c.metadata.revision))).toBeGreaterThan(now!.object.metadata.revision);
    } finally {
      await store.close();
    }
  });

  it('lets a timer run while one caller awaits 2,000 writes in a row, and keeps their order', async () => {
    const store = openSqliteStore(':memory:', { writeTurnBudgetMs: 2 });
    try {
      let timerFiredAt: number | undefined;
      let written = 0;
      setTimeout(() => (timerFiredAt = written), 0);
      for (let i = 0; i < 2000; i++) {
        await store.create({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: `c-${i}`, namespace: 'default' }, spec: { data: { i: String(i) } } });
        written++;
      }
      // Without the budget every awaited write resumes its caller as a microtask: the timer
      // would fire only after the 2,000th.
      expect(timerFiredAt).toBeDefined();
      expect(timerFiredAt).toBeLessThan(2000);
      expect(store.deferredWrites).toBeGreaterThan(0);
      expect((await store.list('Config')).items).toHaveLength(2000);
    } finally {
      await store.close();
    }
  });
});
