import { describe, expect, it } from 'vitest';
import { NodeLeases } from './node-leases.js';

describe('NodeLeases', () => {
  it('remembers the latest renewal per node, never moving backwards, until forgotten', () => {
    const leases = new NodeLeases();
    expect(leases.lastRenewed('n1')).toBeUndefined();
    leases.renew('n1', 2000);
    leases.renew('n1', 1000); // a slow request that arrives late
    leases.renew('n2', 500);
    expect(leases.lastRenewed('n1')).toBe(2000);
    expect(leases.lastRenewed('n2')).toBe(500);
    leases.forget('n1');
    expect(leases.lastRenewed('n1')).toBeUndefined();
    expect(leases.lastRenewed('n2')).toBe(500);
  });
});
