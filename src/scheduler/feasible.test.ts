import { describe, expect, it } from 'vitest';
import { feasibilityCheck, fits, resourceLimit } from './feasible.js';
import { aNodeSnapshot, aRequest, GiB, MiB } from './test-helpers.js';

describe('fits', () => {
  it('accepts a ready node with room', () => {
    expect(fits(aNodeSnapshot(), aRequest())).toBeUndefined();
  });

  it('rejects a node that is not ready, then one that is cordoned', () => {
    expect(fits(aNodeSnapshot({ ready: false, unschedulable: true }), aRequest())).toBe('not ready');
    expect(fits(aNodeSnapshot({ unschedulable: true }), aRequest())).toBe('unschedulable');
  });

  it('rejects a node under memory, disk or pid pressure, naming it', () => {
    expect(fits(aNodeSnapshot({ pressures: ['DiskPressure'] }), aRequest())).toBe('disk pressure');
    expect(fits(aNodeSnapshot({ pressures: ['MemoryPressure', 'PIDPressure'] }), aRequest())).toBe('memory pressure');
    expect(fits(aNodeSnapshot({ pressures: ['PIDPressure'] }), aRequest())).toBe('pid pressure');
  });

  describe('constraints', () => {
    const rackA = aNodeSnapshot({ labels: { rack: 'a', pool: 'web' } });
    const unlabelled = aNodeSnapshot();

    it('= needs the label with that value', () => {
      expect(fits(rackA, aRequest({ constraints: ['rack=a'] }))).toBeUndefined();
      expect(fits(rackA, aRequest({ constraints: ['rack=b'] }))).toBe('constraint rack=b');
      expect(fits(unlabelled, aRequest({ constraints: ['rack=a'] }))).toBe('constraint rack=a');
    });

    it('!= rejects that value and accepts other values or a missing label', () => {
      expect(fits(rackA, aRequest({ constraints: ['rack!=a'] }))).toBe('constraint rack!=a');
      expect(fits(rackA, aRequest({ constraints: ['rack!=b'] }))).toBeUndefined();
      expect(fits(unlabelled, aRequest({ constraints: ['rack!=a'] }))).toBeUndefined();
    });

    it('all constraints must hold; the first that fails is named', () => {
      expect(fits(rackA, aRequest({ constraints: ['rack=a', 'pool=web'] }))).toBeUndefined();
      expect(fits(rackA, aRequest({ constraints: ['rack=a', 'pool=gpu'] }))).toBe('constraint pool=gpu');
    });

    it('a constraint that does not parse matches no node', () => {
      expect(fits(rackA, aRequest({ constraints: ['rack'] }))).toBe('invalid constraint rack');
    });
  });

  describe('resources', () => {
    it('fits exactly at the limit and not one unit past it', () => {
      const node = aNodeSnapshot({ cpu: 1000, memory: GiB, used: { cpu: 600, memory: GiB - 100 * MiB } });
      expect(fits(node, aRequest({ cpu: 400, memory: 100 * MiB }))).toBeUndefined();
      expect(fits(node, aRequest({ cpu: 401, memory: 100 * MiB }))).toBe('insufficient cpu');
      expect(fits(node, aRequest({ cpu: 400, memory: 100 * MiB + 1 }))).toBe('insufficient memory');
    });

    it('overcommit multiplies capacity', () => {
      const node = aNodeSnapshot({ cpu: 1000, overcommit: { cpu: 2 }, used: { cpu: 1500 } });
      expect(resourceLimit(node).cpu).toBe(2000);
      expect(fits(node, aRequest({ cpu: 500 }))).toBeUndefined();
      expect(fits(node, aRequest({ cpu: 501 }))).toBe('insufficient cpu');
    });

    it('reserved is taken off after overcommit: limit = capacity x overcommit - reserved', () => {
      const node = aNodeSnapshot({ memory: 4 * GiB, overcommit: { memory: 1.5 }, reserved: { memory: GiB } });
      expect(resourceLimit(node).memory).toBe(5 * GiB);
      expect(fits(node, aRequest({ memory: 5 * GiB }))).toBeUndefined();
      expect(fits(node, aRequest({ memory: 5 * GiB + 1 }))).toBe('insufficient memory');
    });

    it('reserved cpu leaves less for instances', () => {
      const node = aNodeSnapshot({ cpu: 2000, reserved: { cpu: 500 } });
      expect(fits(node, aRequest({ cpu: 1500 }))).toBeUndefined();
      expect(fits(node, aRequest({ cpu: 1501 }))).toBe('insufficient cpu');
    });

    it('overcommit below 1 holds capacity back', () => {
      const node = aNodeSnapshot({ cpu: 1000, overcommit: { cpu: 0.5 } });
      expect(fits(node, aRequest({ cpu: 501 }))).toBe('insufficient cpu');
    });
  });

  describe('host ports', () => {
    const node = aNodeSnapshot({ hostPorts: ['8080/tcp'] });

    it('rejects a port already bound with the same protocol', () => {
      expect(fits(node, aRequest({ hostPorts: ['9090/tcp', '8080/tcp'] }))).toBe('host port 8080/tcp in use');
    });

    it('accepts the same number with another protocol, or another port', () => {
      expect(fits(node, aRequest({ hostPorts: ['8080/udp'] }))).toBeUndefined();
      expect(fits(node, aRequest({ hostPorts: ['8081/tcp'] }))).toBeUndefined();
    });
  });

  it('a compiled check gives the same answers as fits', () => {
    const req = aRequest({ constraints: ['rack=a'], memory: 2 * GiB });
    const check = feasibilityCheck(req);
    for (const node of [aNodeSnapshot({ labels: { rack: 'a' } }), aNodeSnapshot({ labels: { rack: 'b' } }), aNodeSnapshot({ labels: { rack: 'a' }, memory: GiB })]) {
      expect(check(node)).toBe(fits(node, req));
    }
  });
});
