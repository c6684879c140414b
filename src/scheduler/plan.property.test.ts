// Properties of whole plans over generated clusters (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fits, resourceLimit } from './feasible.js';
import { schedule } from './plan.js';
import { aNodeSnapshot, aRequest, GiB, MiB } from './test-helpers.js';
import type { NodeSnapshot, Plan, PlacementRequest } from './types.js';

const PORTS = ['80/tcp', '443/tcp', '53/udp'];
const RACKS = ['a', 'b', 'c', 'd'];

const anyNode = (name: string) =>
  fc
    .record({
      cpu: fc.integer({ min: 0, max: 8000 }),
      memoryMi: fc.integer({ min: 0, max: 16 * 1024 }),
      overcommitCpu: fc.constantFrom(0.5, 1, 1.1, 1.5, 2, 4),
      overcommitMemory: fc.constantFrom(0.8, 1, 1.2, 1.5),
      reservedCpu: fc.integer({ min: 0, max: 1000 }),
      reservedMi: fc.integer({ min: 0, max: 2048 }),
      fill: fc.double({ min: 0, max: 1, noNaN: true }),
      ready: fc.integer({ min: 0, max: 9 }).map((x) => x !== 0),
      unschedulable: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      rack: fc.constantFrom(...RACKS),
      ports: fc.subarray(PORTS),
      services: fc.dictionary(fc.constantFrom('default/s1', 'default/s2', 'default/other'), fc.integer({ min: 1, max: 3 })),
    })
    .map((g) => {
      const base = aNodeSnapshot({
        name,
        cpu: g.cpu,
        memory: g.memoryMi * MiB,
        overcommit: { cpu: g.overcommitCpu, memory: g.overcommitMemory },
        reserved: { cpu: g.reservedCpu, memory: g.reservedMi * MiB },
      });
      const limit = resourceLimit(base);
      // Start within the limit: the property is about what the plan adds.
      const used = { cpu: Math.floor(g.fill * Math.max(0, limit.cpu)), memory: Math.floor(g.fill * Math.max(0, limit.memory)) };
      return aNodeSnapshot({
        name,
        cpu: g.cpu,
        memory: g.memoryMi * MiB,
        overcommit: { cpu: g.overcommitCpu, memory: g.overcommitMemory },
        reserved: { cpu: g.reservedCpu, memory: g.reservedMi * MiB },
        used,
        ready: g.ready,
        unschedulable: g.unschedulable,
        labels: { rack: g.rack },
        hostPorts: g.ports,
        serviceCounts: g.services,
      });
    });

const anyCluster = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => anyNode(`n${i}`))));

const anyRequest = fc.record({
  service: fc.constantFrom('s1', 's2', 's3'),
  cpu: fc.integer({ min: 0, max: 3000 }),
  memoryMi: fc.integer({ min: 0, max: 6 * 1024 }),
  hostPorts: fc.subarray(PORTS, { maxLength: 1 }),
  constraints: fc.subarray(['rack=a', 'rack!=b']),
  spread: fc.subarray(['rack']),
});

const anyRequests = fc.array(anyRequest, { maxLength: 40 }).map((rs) =>
  rs.map((r, i) => aRequest({ id: `default/r${i}`, service: r.service, cpu: r.cpu, memory: r.memoryMi * MiB, hostPorts: r.hostPorts, constraints: r.constraints, spread: r.spread })),
);

const anyOptions = fc.record({ seed: fc.integer(), strategy: fc.constantFrom('binpack' as const, 'spread' as const, undefined) });

/** Replays a plan on private copies of the nodes; calls `check` before each placement is applied. */
function replay(nodes: readonly NodeSnapshot[], requests: readonly PlacementRequest[], plan: Plan, check?: (state: NodeSnapshot[], req: PlacementRequest, chosen: NodeSnapshot | undefined) => void): NodeSnapshot[] {
  const state = nodes.map((n) => ({ ...n, used: { ...n.used }, hostPorts: new Set(n.hostPorts), serviceCounts: new Map(n.serviceCounts) }));
  const byId = new Map(plan.placements.map((p) => [p.id, p.node]));
  for (const req of requests) {
    const name = byId.get(req.id);
    const node = state.find((n) => n.name === name);
    check?.(state, req, node);
    if (!node) continue;
    node.used.cpu += req.resources.cpu;
    node.used.memory += req.resources.memory;
    for (const p of req.hostPorts) node.hostPorts.add(p);
    node.serviceCounts.set(req.serviceKey, (node.serviceCounts.get(req.serviceKey) ?? 0) + 1);
  }
  return state;
}

const plain = (n: NodeSnapshot) => ({ ...n, hostPorts: [...n.hostPorts], serviceCounts: [...n.serviceCounts] });

describe('schedule (properties)', () => {
  it('never puts a node over capacity x overcommit - reserved, nor two users on one host port', () => {
    fc.assert(
      fc.property(anyCluster(0, 20), anyRequests, anyOptions, (nodes, requests, opts) => {
        const plan = schedule(nodes, requests, opts, 1);
        expect(plan.placements.length + plan.failures.length).toBe(requests.length);
        replay(nodes, requests, plan, (_state, req, chosen) => {
          // Every placement was feasible at its turn, given the plan's earlier placements.
          if (chosen) expect(fits(chosen, req)).toBeUndefined();
        });
        for (const n of replay(nodes, requests, plan)) {
          const limit = resourceLimit(n);
          const original = nodes.find((o) => o.name === n.name)!;
          if (n.used.cpu !== original.used.cpu || n.used.memory !== original.used.memory) {
            expect(n.used.cpu).toBeLessThanOrEqual(limit.cpu);
            expect(n.used.memory).toBeLessThanOrEqual(limit.memory);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('places replicas of one service on distinct nodes while a feasible node without one remains', () => {
    const cluster = fc.oneof(
      fc.record({ nodes: anyCluster(1, 8), sampleSize: fc.constant(undefined) }),
      fc.record({ nodes: anyCluster(1, 24), sampleSize: fc.constant(24) }),
    );
    const job = fc.record({ count: fc.integer({ min: 1, max: 30 }), cpu: fc.integer({ min: 0, max: 2000 }), memoryMi: fc.integer({ min: 0, max: 4096 }) });
    fc.assert(
      fc.property(cluster, job, anyOptions, ({ nodes, sampleSize }, { count, cpu, memoryMi }, opts) => {
        const requests = Array.from({ length: count }, (_, i) => aRequest({ id: `default/web-${i}`, service: 'web', cpu, memory: memoryMi * MiB }));
        const plan = schedule(nodes, requests, { ...opts, ...(sampleSize ? { sampleSize } : {}) }, 1);
        replay(nodes, requests, plan, (state, req, chosen) => {
          const feasible = state.filter((n) => fits(n, req) === undefined);
          if (!chosen) {
            expect(feasible).toEqual([]);
            return;
          }
          const spare = feasible.some((n) => !n.serviceCounts.has(req.serviceKey));
          if (spare) expect(chosen.serviceCounts.get(req.serviceKey) ?? 0).toBe(0);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('with spread on rack and room everywhere, per-rack counts of a service stay within one', () => {
    const rackedCluster = fc.integer({ min: 2, max: 16 }).chain((n) =>
      fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            // The first racks get one node each so that every rack exists.
            rack: i < 2 ? fc.constant(RACKS[i]!) : fc.constantFrom(...RACKS),
            usedCpu: fc.integer({ min: 0, max: 8000 }),
            others: fc.integer({ min: 0, max: 5 }),
          }).map((g) => aNodeSnapshot({ name: `n${i}`, cpu: 64_000, memory: 256 * GiB, labels: { rack: g.rack }, used: { cpu: g.usedCpu }, serviceCounts: { 'default/other': g.others } })),
        ),
      ),
    );
    fc.assert(
      fc.property(rackedCluster, fc.integer({ min: 1, max: 60 }), anyOptions, (nodes, count, opts) => {
        const requests = Array.from({ length: count }, (_, i) => aRequest({ id: `default/web-${i}`, service: 'web', cpu: 100, memory: 64 * MiB, spread: ['rack'] }));
        const plan = schedule(nodes, requests, opts, 1);
        expect(plan.failures).toEqual([]);
        const racks = new Map<string, number>();
        for (const n of nodes) racks.set(n.labels.rack!, 0);
        const rackOf = new Map(nodes.map((n) => [n.name, n.labels.rack!]));
        for (const p of plan.placements) {
          const r = rackOf.get(p.node)!;
          racks.set(r, racks.get(r)! + 1);
          const counts = [...racks.values()];
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same plan for the same inputs and seed, and leaves the inputs untouched', () => {
    fc.assert(
      fc.property(anyCluster(0, 40), anyRequests, anyOptions, fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }), (nodes, requests, opts, sampleSize) => {
        const before = nodes.map(plain);
        const o = { ...opts, ...(sampleSize ? { sampleSize } : {}) };
        const first = schedule(nodes, requests, o, 5);
        expect(nodes.map(plain)).toEqual(before);
        expect(schedule(nodes, requests, o, 5)).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });
});
