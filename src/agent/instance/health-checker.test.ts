import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HealthCheck } from '../../core/index.js';
import type { ContainerState, Driver } from '../../drivers/driver.js';
import { silentLogger } from '../test-helpers.js';
import { HealthChecker } from './health-checker.js';

const STATE = { id: 'c1', instance: { namespace: 'default', name: 'web-1' }, container: 'web', running: true } as ContainerState;

/** A checker whose probe passes from `answersAfterMs` on (Infinity: never), on fake timers. */
function aChecker(check: HealthCheck, answersAfterMs: number) {
  const t0 = performance.now();
  const probes: number[] = [];
  const changes: { at: number; healthy: boolean }[] = [];
  let unhealthyAt: number | undefined;
  const driver = {
    probe: async () => {
      const at = performance.now() - t0;
      probes.push(at);
      return at >= answersAfterMs ? { ok: true } : { ok: false, message: 'connection refused' };
    },
  } as unknown as Driver;
  const checker = new HealthChecker({
    driver,
    check,
    ports: [{ name: 'http', containerPort: 8080 }],
    target: () => STATE,
    onChange: (healthy) => changes.push({ at: performance.now() - t0, healthy }),
    onUnhealthy: () => (unhealthyAt = performance.now() - t0),
    logger: silentLogger(),
  });
  return { checker, probes, changes, unhealthyAt: () => unhealthyAt };
}

describe('HealthChecker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('probes every startInterval until the first success, then every interval', async () => {
    const { checker, probes, changes } = aChecker({ http: { port: 'http', path: '/' }, interval: '1s' }, 300);
    checker.start();
    await vi.advanceTimersByTimeAsync(600);
    // Healthy at the probe at 500 ms: 250 ms probes, not one at 0 and the next at 1 s.
    expect(changes).toEqual([{ at: 500, healthy: true }]);
    expect(probes).toEqual([0, 250, 500]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(probes).toEqual([0, 250, 500, 1500, 2500]);
    checker.stop();
  });

  it('judges a container that never answers unhealthy no sooner than retries intervals allow', async () => {
    const { checker, probes, unhealthyAt } = aChecker({ http: { port: 'http', path: '/' }, interval: '1s', retries: 3 }, Number.POSITIVE_INFINITY);
    checker.start();
    await vi.advanceTimersByTimeAsync(1999);
    expect(unhealthyAt()).toBeUndefined();
    expect(probes.length).toBe(8); // 0, 250, ..., 1750: the early probes still come
    await vi.advanceTimersByTimeAsync(1);
    // Failures counted at 0, 1 s and 2 s: the verdict of three 1 s probes, as without start probes.
    expect(unhealthyAt()).toBe(2000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(probes.length).toBe(9); // no probes after the verdict
  });

  it('takes startInterval from the check, never longer than interval', async () => {
    const slow = aChecker({ http: { port: 'http', path: '/' }, interval: '1s', startInterval: '100ms' }, 150);
    slow.checker.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(slow.changes).toEqual([{ at: 200, healthy: true }]);
    slow.checker.stop();
    const capped = aChecker({ http: { port: 'http', path: '/' }, interval: '100ms', startInterval: '5s' }, 150);
    capped.checker.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(capped.probes).toEqual([0, 100, 200]);
    capped.checker.stop();
  });

  it('a container adopted as healthy is probed every interval from the start', async () => {
    const { checker, probes } = aChecker({ http: { port: 'http', path: '/' }, interval: '1s' }, 0);
    checker.start(true);
    await vi.advanceTimersByTimeAsync(2500);
    expect(probes).toEqual([0, 1000, 2000]);
    checker.stop();
  });
});
