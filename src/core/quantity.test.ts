import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatCpu, formatMemory, parseCpu, parseDuration, parseMemory } from './quantity.js';

describe('quantities', () => {
  it('parses memory in binary and decimal units', () => {
    expect(parseMemory('128Mi')).toBe(128 * 2 ** 20);
    expect(parseMemory('1Gi')).toBe(2 ** 30);
    expect(parseMemory('500M')).toBe(500e6);
    expect(parseMemory('1.5Ki')).toBe(1536);
    expect(parseMemory('4096')).toBe(4096);
    expect(parseMemory('lots')).toBeUndefined();
    expect(parseMemory('12 Mi')).toBeUndefined();
  });

  it('parses cpu in cores and millicores', () => {
    expect(parseCpu('0.25')).toBe(250);
    expect(parseCpu(0.5)).toBe(500);
    expect(parseCpu('250m')).toBe(250);
    expect(parseCpu('2')).toBe(2000);
    expect(parseCpu('-1')).toBeUndefined();
    expect(parseCpu(-1)).toBeUndefined();
  });

  it('parses durations', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('5s junk')).toBeUndefined();
  });

  it('formats what it parses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.constantFrom('Ki', 'Mi', 'Gi'), (n, unit) => {
        expect(parseMemory(formatMemory(parseMemory(`${n}${unit}`)!))).toBe(parseMemory(`${n}${unit}`));
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64_000 }), (m) => {
        expect(parseCpu(formatCpu(m))).toBe(m);
      }),
    );
  });
});

describe('formatMemory', () => {
  it('is exact where a unit divides, and readable where none does', () => {
    expect(formatMemory(128 * 2 ** 20)).toBe('128Mi');
    expect(formatMemory(24_684_092 * 1024)).toBe('23.5Gi');
    expect(formatMemory(1536 * 2 ** 20)).toBe('1536Mi');
    expect(formatMemory(512)).toBe('512');
  });
});
