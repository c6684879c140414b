import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList } from '../../core/index.js';
import { CpusetAllocator } from './cpuset-allocator.js';

describe('cpu lists', () => {
  it('parses and formats ranges', () => {
    expect(parseCpuList('0-3,6\n')).toEqual([0, 1, 2, 3, 6]);
    expect(parseCpuList('')).toEqual([]);
    expect(formatCpuList([6, 0, 1, 2, 3])).toBe('0-3,6');
    expect(formatCpuList([1, 3])).toBe('1,3');
    expect(() => parseCpuList('0-3;rm')).toThrow(/not a cpu list/);
    expect(() => parseCpuList('3-1')).toThrow(/backwards/);
  });

  it('round-trips any set of cores', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }), (cpus) => {
        expect(parseCpuList(formatCpuList(cpus))).toEqual([...cpus].sort((a, b) => a - b));
      }),
    );
  });
});

describe('CpusetAllocator', () => {
  it('hands out the lowest free cores, never reserved ones, and names the shortage', () => {
    const a = new CpusetAllocator([0, 1, 2, 3], [0]);
    expect(a.allocatable).toBe(3);
    expect(a.allocate('u1/main', 2)).toEqual([1, 2]);
    expect(a.allocate('u1/main', 2)).toEqual([1, 2]); // held already: the same cores
    expect(() => a.allocate('u2/main', 2)).toThrow('cpuset: 2 whole cores asked, 1 free of 3 (cores 1-3, reserved 0)');
    a.release('u1/main');
    expect(a.allocate('u2/main', 3)).toEqual([1, 2, 3]);
  });

  it('adopts what runs unless it clashes', () => {
    const a = new CpusetAllocator([0, 1, 2, 3], [3]);
    expect(a.adopt('u1/main', [2])).toBe(true);
    expect(a.adopt('u2/main', [2])).toBe(false); // held by u1
    expect(a.adopt('u3/main', [3])).toBe(false); // reserved
    expect(a.allocate('u4/main', 2)).toEqual([0, 1]);
    a.releasePrefix('u1/');
    expect(a.free()).toEqual([2]);
  });

  // The property the issue asks for: whatever sequence of allocations, adoptions and releases,
  // no core is held by two owners at once and no reserved core is ever handed out.
  it('never hands a core out twice and never a reserved one', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('alloc' as const), owner: fc.integer({ min: 0, max: 9 }), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant('adopt' as const), owner: fc.integer({ min: 0, max: 9 }), cores: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ t: fc.constant('release' as const), owner: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
        fc.array(op, { maxLength: 60 }),
        (cpus, reserved, ops) => {
          const a = new CpusetAllocator(cpus, reserved);
          for (const o of ops) {
            const owner = `u${o.owner}/main`;
            if (o.t === 'alloc') {
              try {
                a.allocate(owner, o.count);
              } catch (e) {
                expect(String(e)).toMatch(/free of/);
              }
            } else if (o.t === 'adopt') a.adopt(owner, o.cores);
            else a.release(owner);
            const seen = new Set<number>();
            for (let i = 0; i <= 9; i++) {
              for (const c of a.holding(`u${i}/main`) ?? []) {
                expect(seen.has(c)).toBe(false);
                expect(reserved).not.toContain(c);
                expect(cpus).toContain(c);
                seen.add(c);
              }
            }
            expect(a.free().length + seen.size).toBe(a.allocatable);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
