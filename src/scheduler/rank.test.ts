import { describe, expect, it } from 'vitest';
import { ANTI_AFFINITY_PENALTY, fillAfter, MISSING_LABEL, scoreNode, SPREAD_PENALTY } from './rank.js';
import { aNodeSnapshot, aRequest, GiB } from './test-helpers.js';

const req = aRequest({ cpu: 1000, memory: GiB });
const empty = aNodeSnapshot({ cpu: 4000, memory: 4 * GiB });
const half = aNodeSnapshot({ cpu: 4000, memory: 4 * GiB, used: { cpu: 2000, memory: 2 * GiB } });

describe('scoreNode', () => {
  it('fill is the mean of the cpu and memory fractions of the limit after placing', () => {
    expect(fillAfter(empty, req)).toBeCloseTo(0.25);
    expect(fillAfter(half, aRequest({ cpu: 2000, memory: 0 }))).toBeCloseTo(0.75);
    // The limit, not raw capacity: reserved halves the room.
    expect(fillAfter(aNodeSnapshot({ cpu: 4000, memory: 4 * GiB, reserved: { cpu: 2000, memory: 2 * GiB } }), req)).toBeCloseTo(0.5);
  });

  it('bin-pack (the default) prefers the fuller node', () => {
    expect(scoreNode(half, req, undefined, [])).toBeGreaterThan(scoreNode(empty, req, undefined, []));
    expect(scoreNode(half, req, 'binpack', [])).toBeGreaterThan(scoreNode(empty, req, 'binpack', []));
  });

  it('spread strategy prefers the emptier node', () => {
    expect(scoreNode(empty, req, 'spread', [])).toBeGreaterThan(scoreNode(half, req, 'spread', []));
  });

  it('each replica of the same service on the node costs a strong penalty', () => {
    const withTwo = aNodeSnapshot({ serviceCounts: { 'default/web': 2, 'default/other': 5 } });
    const base = scoreNode(aNodeSnapshot(), req, 'binpack', []);
    expect(scoreNode(withTwo, req, 'binpack', [])).toBeCloseTo(base - 2 * ANTI_AFFINITY_PENALTY);
    // Stronger than any fill difference: an empty node with no replica beats a full one with one.
    const fullWithOne = aNodeSnapshot({ used: { cpu: 3000, memory: 7 * GiB }, serviceCounts: { 'default/web': 1 } });
    expect(scoreNode(empty, req, 'binpack', [])).toBeGreaterThan(scoreNode(fullWithOne, req, 'binpack', []));
  });

  it('spread keys penalise by the count in the node label value', () => {
    const spreadReq = aRequest({ spread: ['rack'] });
    const counts = [new Map([['a', 3], ['b', 1]])];
    const inA = aNodeSnapshot({ labels: { rack: 'a' } });
    const inB = aNodeSnapshot({ labels: { rack: 'b' } });
    const inC = aNodeSnapshot({ labels: { rack: 'c' } });
    expect(scoreNode(inA, spreadReq, 'binpack', counts)).toBeCloseTo(scoreNode(inB, spreadReq, 'binpack', counts) - 2 * SPREAD_PENALTY);
    expect(scoreNode(inC, spreadReq, 'binpack', counts)).toBeGreaterThan(scoreNode(inB, spreadReq, 'binpack', counts));
  });

  it('nodes without the label are counted together', () => {
    const spreadReq = aRequest({ spread: ['rack'] });
    const counts = [new Map([[MISSING_LABEL, 2]])];
    expect(scoreNode(aNodeSnapshot(), spreadReq, 'binpack', counts)).toBeLessThan(scoreNode(aNodeSnapshot({ labels: { rack: 'a' } }), spreadReq, 'binpack', counts));
  });

  it('spread outweighs anti-affinity', () => {
    const spreadReq = aRequest({ spread: ['rack'] });
    const counts = [new Map([['a', 5], ['b', 6]])];
    const crowdedInA = aNodeSnapshot({ labels: { rack: 'a' }, serviceCounts: { 'default/web': 5 } });
    const emptyInB = aNodeSnapshot({ labels: { rack: 'b' } });
    expect(scoreNode(crowdedInA, spreadReq, 'binpack', counts)).toBeGreaterThan(scoreNode(emptyInB, spreadReq, 'binpack', counts));
  });

  it('a node with no room left at all scores as full, not NaN', () => {
    const zero = aNodeSnapshot({ cpu: 0, memory: 0 });
    expect(scoreNode(zero, aRequest({ cpu: 0, memory: 0 }), 'binpack', [])).toBe(1);
  });
});
