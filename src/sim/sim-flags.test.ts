import { describe, expect, it } from 'vitest';
import { fdBudgetWarning, openFileLimit } from './fd-budget.js';
import { parseCapacity, parsePoolWeights } from './sim-flags.js';

describe('sim flags', () => {
  it('parses pool weights and rejects what is not a weight', () => {
    expect(parsePoolWeights('web=0.8, batch=0.2')).toEqual({ web: 0.8, batch: 0.2 });
    expect(parsePoolWeights('a=3,b=1')).toEqual({ a: 3, b: 1 });
    expect(() => parsePoolWeights('web')).toThrow(/"web" must be name=value, e.g. web=0.8,batch=0.2/);
    expect(() => parsePoolWeights('web=lots')).toThrow(/weight of "web" must be a number >= 0/);
    expect(() => parsePoolWeights('web=-1')).toThrow(/>= 0/);
    expect(() => parsePoolWeights('web=0,batch=0')).toThrow(/at least one pool/);
    expect(() => parsePoolWeights('we b=1')).toThrow(/not a label value/);
  });

  it('parses capacity in cores and memory quantities, keeping the default for what is left out', () => {
    expect(parseCapacity('cpu=4,memory=8Gi')).toEqual({ cpu: 4000, memory: 8 * 2 ** 30 });
    expect(parseCapacity('cpu=500m')).toEqual({ cpu: 500, memory: 128 * 2 ** 30 });
    expect(() => parseCapacity('gpu=1')).toThrow(/unknown resource "gpu"/);
    expect(() => parseCapacity('memory=lots')).toThrow(/memory must be a quantity like 128Gi/);
    expect(() => parseCapacity('cpu=0')).toThrow(/cpu must be cores/);
  });

  it('warns with the fix when the nodes need more open files than the process may have', () => {
    expect(fdBudgetWarning(1000, false, 20_000)).toBeUndefined();
    expect(fdBudgetWarning(10_000, false, 20_000)).toBeUndefined();
    expect(fdBudgetWarning(20_000, false, 20_000)).toMatch(/20000 hollow nodes need about 20544 open files, but this process may open 20000: about 19456 will start\. Raise the limit \(ulimit -n 20544\)/);
    expect(fdBudgetWarning(9000, true, 20_000)).toBeUndefined();
    expect(fdBudgetWarning(10_000, true, 20_000)).toMatch(/20832 open files with --embedded.*about 9584 will start/);
    expect(fdBudgetWarning(1_000_000, true, undefined)).toBeUndefined();
    expect(openFileLimit('/nonexistent/limits')).toBeUndefined();
  });
});
