import { describe, expect, it, vi } from 'vitest';
import { keepSessionTicketKeys, sessionIdContext, sessionTicketKeys, utcDay } from './session-tickets.js';

describe('session ticket keys', () => {
  it('are 48 bytes, the same for the same secret and day, different for another of either', () => {
    const k = sessionTicketKeys('s', 20_000);
    expect(k).toHaveLength(48);
    expect(sessionTicketKeys('s', 20_000).equals(k)).toBe(true);
    expect(sessionTicketKeys('s', 20_001).equals(k)).toBe(false);
    expect(sessionTicketKeys('t', 20_000).equals(k)).toBe(false);
  });

  it('go with a session id context of the cluster, not of the process (at most 32 characters)', () => {
    expect(sessionIdContext('3a9bb99f258d')).toBe('gantry-api-3a9bb99f258d');
    expect(sessionIdContext('x'.repeat(40))).toHaveLength(32);
  });

  it('change at midnight UTC', () => {
    const midnight = Date.parse('2026-12-08T00:00:00Z');
    expect(utcDay(midnight - 1)).toBe(utcDay(midnight) - 1);
    expect(utcDay(midnight + 86_399_999)).toBe(utcDay(midnight));
  });

  it('are set at once and again after midnight', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-07T23:59:00Z') });
    try {
      const set: Buffer[] = [];
      const stop = keepSessionTicketKeys({ setTicketKeys: (k) => set.push(k) }, 'secret');
      expect(set).toHaveLength(1);
      expect(set[0]!.equals(sessionTicketKeys('secret', utcDay(Date.now())))).toBe(true);
      vi.advanceTimersByTime(59_000);
      expect(set).toHaveLength(1);
      vi.advanceTimersByTime(2_000);
      expect(set).toHaveLength(2);
      expect(set[1]!.equals(sessionTicketKeys('secret', utcDay(Date.parse('2026-12-08T00:00:01Z'))))).toBe(true);
      stop();
      vi.advanceTimersByTime(86_400_000);
      expect(set).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
