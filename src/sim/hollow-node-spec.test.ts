import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOLLOW_LABEL, hollowNodeSpec, pickWeighted, type HollowLayout } from './hollow-node-spec.js';

const aLayout = (o: Partial<HollowLayout> = {}): HollowLayout => ({ namePrefix: 'hollow', nodes: 1000, racks: 10, pools: { web: 0.8, batch: 0.2 }, seed: 1, ...o });

describe('hollowNodeSpec', () => {
  it('names nodes so they sort, and labels rack, pool and hollow', () => {
    expect(hollowNodeSpec(aLayout(), 7)).toMatchObject({ name: 'hollow-007', labels: { rack: 'r7', [HOLLOW_LABEL]: 'true' } });
    expect(hollowNodeSpec(aLayout({ racks: 3 }), 7).labels.rack).toBe('r1');
    expect(hollowNodeSpec(aLayout({ nodes: 1 }), 0).name).toBe('hollow-0');
    expect(hollowNodeSpec(aLayout({ namePrefix: 'sim-b', nodes: 10_000 }), 42).name).toBe('sim-b-0042');
  });

  it('gives node i the same pool and driver seed whatever the number of nodes, and other ones for another seed', () => {
    const pools = (layout: HollowLayout) => Array.from({ length: 200 }, (_, i) => hollowNodeSpec(layout, i).labels.pool);
    expect(pools(aLayout({ nodes: 200 }))).toEqual(pools(aLayout({ nodes: 10_000 })));
    expect(pools(aLayout({ seed: 2 }))).not.toEqual(pools(aLayout({ seed: 1 })));
    expect(hollowNodeSpec(aLayout(), 3).driverSeed).not.toBe(hollowNodeSpec(aLayout(), 4).driverSeed);
  });

  it('draws pools in proportion to their weights', () => {
    const web = Array.from({ length: 2000 }, (_, i) => hollowNodeSpec(aLayout({ nodes: 2000 }), i).labels.pool).filter((p) => p === 'web').length;
    expect(web / 2000).toBeGreaterThan(0.76);
    expect(web / 2000).toBeLessThan(0.84);
  });
});

describe('pickWeighted', () => {
  it('only ever picks pools with a weight above 0', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(5)), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (weights, u) => {
        fc.pre(Object.values(weights).some((w) => w > 0));
        expect(weights[pickWeighted(weights, u)]).toBeGreaterThan(0);
      }),
    );
  });

  it('splits [0, 1) by cumulative weight', () => {
    expect(pickWeighted({ a: 1, b: 3 }, 0.24)).toBe('a');
    expect(pickWeighted({ a: 1, b: 3 }, 0.26)).toBe('b');
    expect(pickWeighted({ a: 0, b: 1 }, 0)).toBe('b');
  });
});
