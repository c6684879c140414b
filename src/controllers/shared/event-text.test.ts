import { describe, expect, it } from 'vitest';
import { count, listSome } from './event-text.js';

describe('event text', () => {
  it('lists up to max items, then says how many more', () => {
    expect(listSome(['a', 'b'], 3)).toBe('a, b');
    expect(listSome(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(listSome(['a', 'b', 'c', 'd', 'e'], 3)).toBe('a, b, c ... and 2 more');
  });

  it('counts with the right plural', () => {
    expect(count(1, 'instance')).toBe('1 instance');
    expect(count(0, 'instance')).toBe('0 instances');
    expect(count(2, 'instance')).toBe('2 instances');
  });
});
