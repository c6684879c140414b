import { describe, expect, it } from 'vitest';
import { formatAge } from './age.js';

const now = new Date('2025-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

describe('formatAge', () => {
  it.each([
    [5, '5s'],
    [119, '119s'],
    [330, '5m30s'],
    [600, '10m'],
    [42 * 60, '42m'],
    [3 * 3600 + 20 * 60, '3h20m'],
    [30 * 3600, '30h'],
    [3 * 86400 + 5 * 3600, '3d5h'],
    [12 * 86400, '12d'],
  ])('%i seconds is %s', (seconds, text) => {
    expect(formatAge(ago(seconds), now)).toBe(text);
  });

  it('says <unknown> without a usable time, and never goes negative', () => {
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge('yesterday', now)).toBe('<unknown>');
    expect(formatAge(ago(-30), now)).toBe('0s');
  });
});
