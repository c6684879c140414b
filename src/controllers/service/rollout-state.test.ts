import { describe, expect, it } from 'vitest';
import type { RolloutStatus } from '../../core/index.js';
import { nextRollout, rollbackTarget, type RolloutFacts } from './rollout-state.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DEADLINE_MS = 20_000;

/** What the controller counted, for `version` with 3 replicas; override what the case is about. */
function facts(version: number, over: Partial<RolloutFacts> = {}): RolloutFacts {
  return {
    version,
    outdated: 0,
    updated: 0,
    updatedAvailable: 0,
    replicas: 3,
    paused: false,
    canary: undefined,
    progressDeadlineMs: DEADLINE_MS,
    available: 0,
    previousReady: 0,
    autoRollback: true,
    ...over,
  };
}

function record(phase: RolloutStatus['phase'], version: number, fromVersion?: number): RolloutStatus {
  return { phase, version, ...(fromVersion !== undefined ? { fromVersion } : {}), startedAt: new Date(T0).toISOString(), progressAt: new Date(T0).toISOString(), availableUpdated: 0 };
}

/** v2 applied on top of `prev` with `previousReady` of prev's instances ready: v2's rollback target. */
function startV2(prev: RolloutStatus, previousReady: number): number | undefined {
  const t = nextRollout(prev, facts(prev.version + 1, { outdated: 3, previousReady, available: previousReady }), T0 + 1000);
  expect(t.started).toBe(true);
  expect(t.rollout.phase).toBe('Progressing');
  return t.rollout.fromVersion;
}

describe('rollout state: the rollback target of an update', () => {
  it('an update while the first version is still Progressing (all 3 ready, minReadySeconds not up): back to v1', () => {
    expect(startV2(record('Progressing', 1), 3)).toBe(1);
  });

  it('an update while the first version is Progressing with 1 of 3 ready: v1 is the only version that served', () => {
    expect(startV2(record('Progressing', 1), 1)).toBe(1);
  });

  it('an update while v2 (from v1) is Progressing: v2 if all of it is ready, else v1, which still serves the rest', () => {
    expect(startV2(record('Progressing', 2, 1), 3)).toBe(2);
    expect(startV2(record('Progressing', 2, 1), 2)).toBe(1);
    expect(startV2(record('Progressing', 2, 1), 0)).toBe(1);
  });

  it('an update while v2 (from v1) is Paused: the same rule, the pause does not change it', () => {
    expect(startV2(record('Paused', 2, 1), 1)).toBe(1);
    expect(startV2(record('Paused', 2, 1), 3)).toBe(2);
    // A first version paused before anything was ready: nothing to go back to.
    expect(startV2(record('Paused', 1), 0)).toBeUndefined();
  });

  it('an update while v2 (from v1) waits in CanaryPaused with its 1 canary ready: back to v1', () => {
    expect(startV2(record('CanaryPaused', 2, 1), 1)).toBe(1);
  });

  it('an update after Complete or RolledBack returns to that version, however many are ready at the moment', () => {
    expect(startV2(record('Complete', 1), 0)).toBe(1);
    expect(startV2(record('RolledBack', 3, 1), 0)).toBe(3);
  });

  it('no earlier record: no target', () => {
    expect(rollbackTarget(undefined, 0, 3)).toBeUndefined();
  });
});

describe('rollout state: an update of a service whose first version never completed', () => {
  it('has no target; at the deadline the rollout fails and says it stays, with the count kept current', () => {
    // v1 never turned ready and failed; v2 is applied.
    const v1Failed: RolloutStatus = { ...record('Failed', 1), message: 'v1 made no progress within 20s (ProgressDeadlineExceeded)' };
    const start = nextRollout(v1Failed, facts(2, { outdated: 2, previousReady: 0 }), T0);
    expect(start.rollout).toMatchObject({ phase: 'Progressing', version: 2 });
    expect(start.rollout.fromVersion).toBeUndefined();

    const before = nextRollout(start.rollout, facts(2, { outdated: 2, updated: 2, available: 0 }), T0 + DEADLINE_MS - 1);
    expect(before.failedNow).toBe(false);
    const failed = nextRollout(before.rollout, facts(2, { outdated: 2, updated: 2, available: 0, blocked: 'instance web-abcde: image not found' }), T0 + DEADLINE_MS);
    expect(failed.failedNow).toBe(true);
    expect(failed.rollout.phase).toBe('Failed');
    expect(failed.rollout.message).toBe(
      'v2 made no progress within 20s (ProgressDeadlineExceeded): instance web-abcde: image not found; no earlier version completed; staying on v2 with 0 of 3 available',
    );

    // The old instances turn ready later: the message follows.
    const later = nextRollout(failed.rollout, facts(2, { outdated: 3, updated: 2, available: 3 }), T0 + DEADLINE_MS + 5000);
    expect(later.failedNow).toBe(false);
    expect(later.rollout.phase).toBe('Failed');
    expect(later.rollout.message).toMatch(/; no earlier version completed; staying on v2 with 3 of 3 available$/);
  });

  it('with autoRollback off the failure says so, target or not', () => {
    const start = nextRollout(record('Complete', 1), facts(2, { outdated: 3, autoRollback: false }), T0);
    expect(start.rollout.fromVersion).toBe(1);
    const failed = nextRollout(start.rollout, facts(2, { outdated: 3, updated: 1, available: 3, autoRollback: false }), T0 + DEADLINE_MS);
    expect(failed.rollout.message).toMatch(/\(ProgressDeadlineExceeded\); autoRollback is off; staying on v2 with 3 of 3 available$/);
  });

  it('a failed rollout with a target names no "staying" (the controller rolls it back)', () => {
    const start = nextRollout(record('Progressing', 1), facts(2, { outdated: 3, previousReady: 3 }), T0);
    const failed = nextRollout(start.rollout, facts(2, { outdated: 3, updated: 1, available: 3 }), T0 + DEADLINE_MS);
    expect(failed.failedNow).toBe(true);
    expect(failed.rollout.message).toBe('v2 made no progress within 20s (ProgressDeadlineExceeded)');
  });

  it('a failed rollout goes on when a new instance turns available, with a fresh deadline', () => {
    const failed: RolloutStatus = { ...record('Failed', 2), message: 'v2 made no progress within 20s (ProgressDeadlineExceeded); no earlier version completed; staying on v2 with 3 of 3 available' };
    const now = T0 + 60_000;
    const t = nextRollout(failed, facts(2, { outdated: 3, updated: 2, updatedAvailable: 1, available: 4 }), now);
    expect(t.rollout.phase).toBe('Progressing');
    expect(t.deadlineAt).toBe(now + DEADLINE_MS);
  });
});

describe('nextRollout after completion', () => {
  it('keeps Complete through a scale, with counts that follow the replicas', () => {
    const done = nextRollout(nextRollout(undefined, facts(1), T0).rollout, facts(1, { updated: 3, updatedAvailable: 3, available: 3 }), T0 + 1000).rollout;
    expect(done).toMatchObject({ phase: 'Complete', message: 'v1 rolled out: 3 of 3 instances up to date and available' });
    const scaling = nextRollout(done, facts(1, { replicas: 5, updated: 5, updatedAvailable: 3, available: 3 }), T0 + 2000).rollout;
    expect(scaling).toMatchObject({ phase: 'Complete', message: 'v1 rolled out; scaling: 3 of 5 instances available' });
    const scaled = nextRollout(scaling, facts(1, { replicas: 5, updated: 5, updatedAvailable: 5, available: 5 }), T0 + 3000).rollout;
    expect(scaled).toMatchObject({ phase: 'Complete', message: 'v1 rolled out: 5 of 5 instances up to date and available' });
  });
});
