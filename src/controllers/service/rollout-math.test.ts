import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveBounds, rolloutCounts, type RolloutInput } from './rollout-math.js';

const base = (o: Partial<RolloutInput>): RolloutInput => ({
  replicas: 4,
  bounds: { surge: 1, unavailable: 0 },
  strategy: 'Rolling',
  current: { total: 0, available: 0 },
  old: { total: 4, available: 4 },
  oldStopping: 0,
  newTarget: 4,
  paused: false,
  ...o,
});

describe('resolveBounds', () => {
  it('rounds a surge percentage up and an unavailable percentage down', () => {
    expect(resolveBounds(10, { maxSurge: '25%', maxUnavailable: '25%' })).toEqual({ surge: 3, unavailable: 2 });
  });
  it('never leaves both at 0, which could not move', () => {
    expect(resolveBounds(3, { maxSurge: 0, maxUnavailable: '10%' })).toEqual({ surge: 1, unavailable: 0 });
  });
});

describe('rolloutCounts', () => {
  it('surges first and stops nothing while the new instance is not available (maxUnavailable 0)', () => {
    expect(rolloutCounts(base({}))).toEqual({ create: 1, stopOldUnavailable: 0, stopOldAvailable: 0, stopCurrent: 0 });
    expect(rolloutCounts(base({ current: { total: 1, available: 0 } }))).toEqual({ create: 0, stopOldUnavailable: 0, stopOldAvailable: 0, stopCurrent: 0 });
    expect(rolloutCounts(base({ current: { total: 1, available: 1 } })).stopOldAvailable).toBe(1);
  });

  it('with maxUnavailable 1 stops one old instance at once, keeping 3 of 4 available', () => {
    const c = rolloutCounts(base({ bounds: { surge: 1, unavailable: 1 } }));
    expect(c).toEqual({ create: 1, stopOldUnavailable: 0, stopOldAvailable: 1, stopCurrent: 0 });
  });

  it('stops unhealthy old instances before healthy ones', () => {
    const c = rolloutCounts(base({ old: { total: 4, available: 3 }, bounds: { surge: 1, unavailable: 1 } }));
    expect(c.stopOldUnavailable).toBe(1);
    expect(c.stopOldAvailable).toBe(0);
  });

  it('Recreate stops every old instance first and creates only once they are gone', () => {
    expect(rolloutCounts(base({ strategy: 'Recreate' }))).toEqual({ create: 0, stopOldUnavailable: 0, stopOldAvailable: 4, stopCurrent: 0 });
    expect(rolloutCounts(base({ strategy: 'Recreate', old: { total: 0, available: 0 }, oldStopping: 2 })).create).toBe(0);
    expect(rolloutCounts(base({ strategy: 'Recreate', old: { total: 0, available: 0 } })).create).toBe(4);
  });

  it('a canary of 1 ends with 1 new and 3 old', () => {
    expect(rolloutCounts(base({ newTarget: 1 })).create).toBe(1);
    const after = rolloutCounts(base({ newTarget: 1, current: { total: 1, available: 1 } }));
    expect(after).toEqual({ create: 0, stopOldUnavailable: 0, stopOldAvailable: 1, stopCurrent: 0 });
    expect(rolloutCounts(base({ newTarget: 1, current: { total: 1, available: 1 }, old: { total: 3, available: 3 } }))).toEqual({
      create: 0,
      stopOldUnavailable: 0,
      stopOldAvailable: 0,
      stopCurrent: 0,
    });
  });

  it('paused holds the mix and only refills lost capacity', () => {
    expect(rolloutCounts(base({ paused: true, current: { total: 1, available: 1 }, old: { total: 3, available: 3 } }))).toEqual({
      create: 0,
      stopOldUnavailable: 0,
      stopOldAvailable: 0,
      stopCurrent: 0,
    });
    expect(rolloutCounts(base({ paused: true, current: { total: 1, available: 1 }, old: { total: 2, available: 2 } })).create).toBe(1);
  });

  const pool = (max: number) =>
    fc.integer({ min: 0, max }).chain((total) => fc.integer({ min: 0, max: total }).map((available) => ({ total, available })));
  const input = fc.record({
    replicas: fc.integer({ min: 0, max: 12 }),
    surge: fc.integer({ min: 0, max: 4 }),
    unavailable: fc.integer({ min: 0, max: 4 }),
    current: pool(14),
    old: pool(14),
    canary: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  });

  it('property: a Rolling step stays within replicas + maxSurge live and replicas - maxUnavailable available', () => {
    fc.assert(
      fc.property(input, (x) => {
        const bounds = resolveBounds(x.replicas, { maxSurge: x.surge, maxUnavailable: x.unavailable });
        const newTarget = x.canary === undefined ? x.replicas : Math.min(x.canary, x.replicas);
        const c = rolloutCounts({ replicas: x.replicas, bounds, strategy: 'Rolling', current: x.current, old: x.old, oldStopping: 0, newTarget, paused: false });
        for (const v of Object.values(c)) expect(v).toBeGreaterThanOrEqual(0);
        expect(c.stopOldAvailable).toBeLessThanOrEqual(x.old.available);
        expect(c.stopOldUnavailable).toBeLessThanOrEqual(x.old.total - x.old.available);
        const totalBefore = x.current.total + x.old.total;
        const totalAfter = totalBefore + c.create - c.stopOldAvailable - c.stopOldUnavailable - c.stopCurrent;
        // Creates never take the total past replicas + surge (a total already above it only shrinks).
        if (c.create > 0) expect(totalBefore + c.create).toBeLessThanOrEqual(x.replicas + bounds.surge);
        expect(totalAfter).toBeLessThanOrEqual(Math.max(totalBefore, x.replicas + bounds.surge));
        // New instances start unavailable; stops of available old instances take availability down.
        const availableBefore = x.current.available + x.old.available;
        const availableAfter = availableBefore - c.stopOldAvailable;
        if (x.old.total > 0) expect(availableAfter).toBeGreaterThanOrEqual(Math.min(availableBefore, x.replicas - bounds.unavailable));
        // A canary keeps the old version for the rest of the replicas.
        if (x.old.total > 0) expect(x.old.total - c.stopOldAvailable - c.stopOldUnavailable).toBeGreaterThanOrEqual(Math.min(x.old.total, x.replicas - newTarget));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: repeated steps, with new instances turning available, always finish the rollout', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (replicas, surge, unavailable) => {
        const bounds = resolveBounds(replicas, { maxSurge: surge, maxUnavailable: unavailable });
        let current = 0;
        let old = replicas;
        for (let step = 0; step < 100 && (old > 0 || current < replicas); step++) {
          const c = rolloutCounts({ replicas, bounds, strategy: 'Rolling', current: { total: current, available: current }, old: { total: old, available: old }, oldStopping: 0, newTarget: replicas, paused: false });
          // Each step: creates start and become available before the next step.
          expect(current + old + c.create).toBeLessThanOrEqual(replicas + bounds.surge);
          expect(current + old - c.stopOldAvailable).toBeGreaterThanOrEqual(replicas - bounds.unavailable);
          current += c.create - c.stopCurrent;
          old -= c.stopOldAvailable + c.stopOldUnavailable;
        }
        expect({ current, old }).toEqual({ current: replicas, old: 0 });
      }),
    );
  });
});
