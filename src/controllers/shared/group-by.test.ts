import { describe, expect, it } from 'vitest';
import { groupBy } from './group-by.js';

describe('groupBy', () => {
  it('keeps input order within a group and first-appearance order between groups', () => {
    const groups = groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]!);
    expect([...groups.entries()]).toEqual([
      ['b', ['b1', 'b2']],
      ['a', ['a1', 'a2']],
      ['c', ['c1']],
    ]);
  });

  // Speed is the benchmark's business (tests check behaviour): this checks the grouping is right
  // at the size that made the old copy-per-item version quadratic.
  it('groups 100,000 items of one key (one service placed 100k instances)', () => {
    const items = Array.from({ length: 100_000 }, (_, i) => ({ service: 'web', i }));
    const groups = groupBy(items, (x) => x.service);
    expect(groups.get('web')).toHaveLength(100_000);
    expect(groups.get('web')?.[99_999]?.i).toBe(99_999);
  });
});
