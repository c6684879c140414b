import { describe, expect, it } from 'vitest';
import { TurnPacer } from './turn-pacer.js';

/** Resolves after `n` event-loop turns (each setImmediate runs in the next turn's check phase). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('TurnPacer', () => {
  it('lets perTurn callers through at once, the rest a few per later turn, in order', async () => {
    const pacer = new TurnPacer(2);
    const passed: number[] = [];
    const turnOf: number[] = [];
    let turn = 0;
    const ticking = (async () => {
      for (let i = 0; i < 10; i++) {
        await turns(1);
        turn++;
      }
    })();
    await Promise.all(
      Array.from({ length: 7 }, async (_, i) => {
        const wait = pacer.admit();
        if (wait) await wait;
        passed.push(i);
        turnOf.push(turn);
      }),
    );
    await ticking;
    expect(passed).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Two in the first turn, then two per turn: never more than perTurn in one.
    const perTurn = new Map<number, number>();
    for (const t of turnOf) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect([...perTurn.values()].every((n) => n <= 2)).toBe(true);
    expect(perTurn.size).toBe(4);
    expect(pacer.queued).toBe(0);
  });

  it('releases its waiters one turn at a time: the loop goes round (I/O, timers) between them', async () => {
    const pacer = new TurnPacer(1);
    // Something else that runs once per loop turn (a setImmediate chain).
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const ticksAt: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const wait = pacer.admit();
        if (wait) await wait;
        ticksAt.push(ticks);
      }),
    );
    ticking = false;
    // Ten callers, one per turn: the loop turned between each two of them.
    for (let i = 1; i < ticksAt.length; i++) expect(ticksAt[i]!).toBeGreaterThan(ticksAt[i - 1]!);
  });

  it('a waiter whose signal aborts goes at once and is not counted', async () => {
    const pacer = new TurnPacer(1);
    expect(pacer.admit()).toBeUndefined();
    const ac = new AbortController();
    let gone = false;
    const waiting = pacer.admit(ac.signal)?.then(() => (gone = true));
    expect(waiting).toBeDefined();
    expect(pacer.queued).toBe(1);
    ac.abort();
    await waiting;
    expect(gone).toBe(true);
    expect(pacer.queued).toBe(0);
    // An aborted signal given to a full turn does not wait either.
    await turns(2);
    expect(pacer.admit()).toBeUndefined();
    await expect(pacer.admit(AbortSignal.abort())).resolves.toBeUndefined();
  });

  it('refuses a budget that is not a whole number above 0', () => {
    expect(() => new TurnPacer(0)).toThrow(/whole number above 0/);
  });
});
