import { describe, expect, it } from 'vitest';
import { schedule } from './plan.js';
import { aNodeSnapshot, aRequest, GiB, replicas } from './test-helpers.js';
import type { NodeSnapshot } from './types.js';

const seed = { seed: 1 };

/** Plain data of a snapshot, to check that scheduling changed nothing. */
const plain = (n: NodeSnapshot) => ({ ...n, hostPorts: [...n.hostPorts], serviceCounts: [...n.serviceCounts] });

describe('schedule', () => {
  it('carries the revision and places a request on a node that fits', () => {
    const plan = schedule([aNodeSnapshot({ name: 'small', memory: GiB }), aNodeSnapshot({ name: 'big', memory: 8 * GiB })], [aRequest({ id: 'default/a', memory: 2 * GiB })], seed, 17);
    expect(plan.revision).toBe(17);
    expect(plan.failures).toEqual([]);
    expect(plan.placements).toEqual([{ id: 'default/a', node: 'big', score: expect.any(Number) }]);
  });

  it('later requests see earlier placements in the same plan', () => {
    const nodes = [aNodeSnapshot({ name: 'n1', memory: 4 * GiB }), aNodeSnapshot({ name: 'n2', memory: 4 * GiB })];
    const plan = schedule(nodes, replicas(3, { service: 'db', memory: 3 * GiB }), seed, 1);
    expect(plan.placements.map((p) => p.node).sort()).toEqual(['n1', 'n2']);
    expect(plan.failures).toEqual([{ id: 'default/db-2', reason: '0/2 nodes fit: 2 insufficient memory' }]);
  });

  it('skips full and unschedulable nodes in the walk, yet a failure still counts every node', () => {
    const nodes = [
      aNodeSnapshot({ name: 'full', memory: 4 * GiB, used: { memory: 4 * GiB } }),
      aNodeSnapshot({ name: 'down', ready: false }),
      aNodeSnapshot({ name: 'room', memory: 4 * GiB }),
      ...Array.from({ length: 200 }, (_, i) => aNodeSnapshot({ name: `busy-${i}`, memory: 4 * GiB, used: { memory: 4 * GiB - 1 } })),
    ];
    const plan = schedule(nodes, replicas(2, { service: 'db', memory: 3 * GiB }), seed, 1);
    expect(plan.placements.map((p) => p.node)).toEqual(['room']);
    expect(plan.failures).toEqual([{ id: 'default/db-1', reason: '0/203 nodes fit: 202 insufficient memory, 1 not ready' }]);
  });

  it('same-shaped requests after a failure fail with the same exact reason; a different shape is judged anew', () => {
    const nodes = [aNodeSnapshot({ name: 'a', memory: 4 * GiB }), aNodeSnapshot({ name: 'b', memory: 2 * GiB })];
    const plan = schedule(nodes, [...replicas(4, { service: 'db', memory: 3 * GiB }), aRequest({ id: 'default/small', memory: GiB })], seed, 1);
    expect(plan.placements.map((p) => [p.id, p.node])).toEqual([['default/db-0', 'a'], ['default/small', 'a']]); // bin-pack: the fuller node
    expect(plan.failures).toEqual([1, 2, 3].map((i) => ({ id: `default/db-${i}`, reason: '0/2 nodes fit: 2 insufficient memory' })));
  });

  it('a host port taken earlier in the plan blocks that node for the next request', () => {
    const nodes = [aNodeSnapshot({ name: 'n1' }), aNodeSnapshot({ name: 'n2' })];
    const reqs = [aRequest({ id: 'default/a', service: 'a', hostPorts: ['80/tcp'] }), aRequest({ id: 'default/b', service: 'b', hostPorts: ['80/tcp'] })];
    const plan = schedule(nodes, [...reqs, aRequest({ id: 'default/c', service: 'c', hostPorts: ['80/tcp'] })], seed, 1);
    expect(new Set(plan.placements.map((p) => p.node)).size).toBe(2);
    expect(plan.failures).toEqual([{ id: 'default/c', reason: '0/2 nodes fit: 2 host port 80/tcp in use' }]);
  });

  it('explains a failure with counts by reason, most common first', () => {
    const nodes = [
      ...Array.from({ length: 8 }, (_, i) => aNodeSnapshot({ name: `m${i}`, labels: { rack: 'a' }, memory: GiB })),
      ...Array.from({ length: 4 }, (_, i) => aNodeSnapshot({ name: `r${i}`, labels: { rack: 'b' } })),
    ];
    const plan = schedule(nodes, [aRequest({ id: 'default/x', memory: 2 * GiB, constraints: ['rack=a'] })], seed, 1);
    expect(plan.placements).toEqual([]);
    expect(plan.failures).toEqual([{ id: 'default/x', reason: '0/12 nodes fit: 8 insufficient memory, 4 constraint rack=a' }]);
  });

  it('counts every node when the cluster is larger than the sample', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => aNodeSnapshot({ name: `n${i}`, ready: i >= 30, unschedulable: i >= 30 }));
    const plan = schedule(nodes, [aRequest()], seed, 1);
    expect(plan.failures[0]?.reason).toBe('0/100 nodes fit: 70 unschedulable, 30 not ready');
  });

  it('says so when there are no nodes', () => {
    expect(schedule([], [aRequest({ id: 'default/x' })], seed, 1).failures).toEqual([
      { id: 'default/x', reason: '0/0 nodes fit: the cluster has no nodes' },
    ]);
  });

  it('puts replicas of one service on different nodes, preferring the fuller under bin-pack', () => {
    const nodes = [aNodeSnapshot({ name: 'busy', used: { cpu: 3000 } }), aNodeSnapshot({ name: 'idle1' }), aNodeSnapshot({ name: 'idle2' })];
    const plan = schedule(nodes, replicas(3), seed, 1);
    expect(plan.placements.map((p) => p.node)[0]).toBe('busy');
    expect(new Set(plan.placements.map((p) => p.node)).size).toBe(3);
  });

  it('spread strategy starts on the emptiest node', () => {
    const nodes = [aNodeSnapshot({ name: 'busy', used: { cpu: 3000 } }), aNodeSnapshot({ name: 'idle' })];
    expect(schedule(nodes, [aRequest()], { seed: 1, strategy: 'spread' }, 1).placements[0]?.node).toBe('idle');
  });

  it('spreads across racks counting the instances already running', () => {
    const nodes = [
      aNodeSnapshot({ name: 'a1', labels: { rack: 'a' }, serviceCounts: { 'default/web': 1 } }),
      aNodeSnapshot({ name: 'a2', labels: { rack: 'a' }, serviceCounts: { 'default/web': 1 } }),
      aNodeSnapshot({ name: 'b1', labels: { rack: 'b' } }),
      aNodeSnapshot({ name: 'b2', labels: { rack: 'b' } }),
    ];
    const plan = schedule(nodes, replicas(2, { spread: ['rack'] }), seed, 1);
    expect(plan.placements.map((p) => p.node).sort()).toEqual(['b1', 'b2']);
  });

  it('spread counts include placements made earlier in the plan, even by requests without spread', () => {
    // Bin-pack alone would pick a1 for w1 (a2 holds w0); only w0's rack count sends w1 to b1.
    const nodes = [aNodeSnapshot({ name: 'a1', labels: { rack: 'a' }, used: { cpu: 2000 } }), aNodeSnapshot({ name: 'a2', labels: { rack: 'a' }, used: { cpu: 3000 } }), aNodeSnapshot({ name: 'b1', labels: { rack: 'b' } })];
    const plan = schedule(nodes, [aRequest({ id: 'default/w0', constraints: ['rack=a'] }), aRequest({ id: 'default/w1', spread: ['rack'] })], seed, 1);
    expect(plan.placements.map((p) => p.node)).toEqual(['a2', 'b1']);
  });

  it('never changes its input snapshots', () => {
    const nodes = [aNodeSnapshot({ name: 'n1', hostPorts: ['22/tcp'], serviceCounts: { 'default/web': 1 }, labels: { rack: 'a' } }), aNodeSnapshot({ name: 'n2', labels: { rack: 'b' } })];
    const before = nodes.map(plain);
    const reqs = replicas(4, { spread: ['rack'], hostPorts: [] });
    reqs.push(aRequest({ id: 'default/p', service: 'p', hostPorts: ['80/tcp'] }));
    const plan = schedule(nodes, reqs, seed, 1);
    expect(plan.placements).toHaveLength(5);
    expect(nodes.map(plain)).toEqual(before);
  });

  it('avoids the nodes in avoidNodes while another node fits, whatever the fill or spread says', () => {
    // Bin-pack would pick the fuller n1, and anti-affinity too (n2 holds a replica already).
    const nodes = [aNodeSnapshot({ name: 'n1', used: { cpu: 3000 } }), aNodeSnapshot({ name: 'n2', serviceCounts: { 'default/web': 3 } })];
    const plan = schedule(nodes, [aRequest({ id: 'default/w', avoidNodes: ['n1'] })], seed, 1);
    expect(plan.placements.map((p) => p.node)).toEqual(['n2']);
  });

  it('still places on an avoided node when it is the only one that fits (a soft rule)', () => {
    const nodes = [aNodeSnapshot({ name: 'n1' }), aNodeSnapshot({ name: 'n2', ready: false }), aNodeSnapshot({ name: 'n3', unschedulable: true })];
    const plan = schedule(nodes, [aRequest({ id: 'default/w', avoidNodes: ['n1', 'n3'] })], seed, 1);
    expect(plan.failures).toEqual([]);
    expect(plan.placements.map((p) => p.node)).toEqual(['n1']);
  });
});
