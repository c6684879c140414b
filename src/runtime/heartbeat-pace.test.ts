import { describe, expect, it } from 'vitest';
import { heartbeatIntervalFor, heartbeatStretchMs } from './heartbeat-pace.js';

describe('heartbeat pace', () => {
  it('keeps 5 s up to 2,500 nodes, then grows in whole seconds to hold 500 heartbeats a second', () => {
    expect(heartbeatIntervalFor(0)).toBe(5000);
    expect(heartbeatIntervalFor(2500)).toBe(5000);
    expect(heartbeatIntervalFor(2501)).toBe(6000);
    expect(heartbeatIntervalFor(5000)).toBe(10_000);
    expect(heartbeatIntervalFor(10_000)).toBe(20_000);
    expect(heartbeatIntervalFor(10_000, 1000)).toBe(10_000);
    expect(heartbeatIntervalFor(20_000, 500)).toBe(40_000);
  });

  it('never asks for more than the 60 s agents take, whatever the rate', () => {
    expect(heartbeatIntervalFor(30_000)).toBe(60_000);
    expect(heartbeatIntervalFor(10_000, 50)).toBe(60_000);
    expect(heartbeatIntervalFor(1_000_000, 10)).toBe(60_000);
    expect(heartbeatStretchMs(10_000, 50)).toBe(110_000);
  });

  it('stretches the tolerated silence by two of the extra intervals, and not at all below the cap', () => {
    expect(heartbeatStretchMs(100)).toBe(0);
    expect(heartbeatStretchMs(2500)).toBe(0);
    expect(heartbeatStretchMs(5000)).toBe(10_000);
    expect(heartbeatStretchMs(10_000)).toBe(30_000);
    expect(heartbeatStretchMs(10_000, 1000)).toBe(10_000);
  });
});
