import { describe, expect, it } from 'vitest';
import { buildNodeSnapshot, buildNodeSnapshots, holdsResources, placementRequestFor } from './snapshot.js';
import { aGantryNode, anInstance, GiB, MiB } from './test-helpers.js';

describe('buildNodeSnapshot', () => {
  it('takes capacity, labels and readiness from the node, with no overcommit or reserve by default', () => {
    const s = buildNodeSnapshot(aGantryNode({ name: 'n1', cpu: 2000, memory: GiB, labels: { rack: 'a' } }), []);
    expect(s).toMatchObject({
      name: 'n1',
      labels: { rack: 'a' },
      ready: true,
      unschedulable: false,
      capacity: { cpu: 2000, memory: GiB },
      overcommit: { cpu: 1, memory: 1 },
      reserved: { cpu: 0, memory: 0 },
      used: { cpu: 0, memory: 0 },
    });
  });

  it('parses overcommit and reserved quantities and the cordon flag', () => {
    const s = buildNodeSnapshot(
      aGantryNode({ spec: { unschedulable: true, overcommit: { cpu: 4 }, reserved: { cpu: '500m', memory: '256Mi' } } }),
      [],
    );
    expect(s.unschedulable).toBe(true);
    expect(s.overcommit).toEqual({ cpu: 4, memory: 1 });
    expect(s.reserved).toEqual({ cpu: 500, memory: 256 * MiB });
  });

  it('a draining node is unschedulable even without the cordon flag', () => {
    expect(buildNodeSnapshot(aGantryNode({ spec: { draining: true } }), []).unschedulable).toBe(true);
    expect(buildNodeSnapshot(aGantryNode({ spec: { draining: false } }), []).unschedulable).toBe(false);
  });

  it('a node that never reported status is not ready and has no capacity', () => {
    const s = buildNodeSnapshot(aGantryNode({ noStatus: true }), []);
    expect(s.ready).toBe(false);
    expect(s.capacity).toEqual({ cpu: 0, memory: 0 });
    expect(buildNodeSnapshot(aGantryNode({ ready: false }), []).ready).toBe(false);
  });

  it('sums instances bound to this node that have not finished, with their ports and services', () => {
    const instances = [
      anInstance({ name: 'web-1', node: 'n1', cpu: 100, memory: 64 * MiB, containers: [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }, { name: 'dyn', containerPort: 81 }] }] }),
      anInstance({ name: 'web-2', node: 'n1', cpu: 200, memory: 64 * MiB, phase: 'Pending' }),
      anInstance({ name: 'dns-1', service: 'dns', namespace: 'infra', node: 'n1', cpu: 50, memory: MiB, containers: [{ name: 'main', image: 'x', ports: [{ name: 'dns', containerPort: 53, hostPort: 53, protocol: 'udp' }] }] }),
      anInstance({ name: 'old', node: 'n1', phase: 'Succeeded', cpu: 1000 }),
      anInstance({ name: 'dead', node: 'n1', phase: 'Failed', cpu: 1000 }),
      anInstance({ name: 'elsewhere', node: 'n2', cpu: 1000 }),
      anInstance({ name: 'unbound', cpu: 1000 }),
    ];
    const s = buildNodeSnapshot(aGantryNode({ name: 'n1' }), instances);
    expect(s.used).toEqual({ cpu: 350, memory: 129 * MiB });
    expect([...s.hostPorts].sort()).toEqual(['53/udp', '8080/tcp']);
    expect(Object.fromEntries(s.serviceCounts)).toEqual({ 'default/web': 2, 'infra/dns': 1 });
  });

  it('a Lost instance still holds its resources and host ports (its containers may still run there); terminal ones do not', () => {
    const ports = [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }] }];
    const lost = anInstance({ name: 'lost', node: 'n1', phase: 'Lost', cpu: 300, memory: MiB, containers: ports });
    expect(holdsResources(lost)).toBe(true);
    expect(holdsResources(anInstance({ node: 'n1', phase: 'Failed' }))).toBe(false);
    expect(holdsResources(anInstance({ node: 'n1', phase: 'Succeeded' }))).toBe(false);
    expect(holdsResources(anInstance({ phase: 'Lost' }))).toBe(false);
    const s = buildNodeSnapshot(aGantryNode({ name: 'n1' }), [lost]);
    expect(s.used).toEqual({ cpu: 300, memory: MiB });
    expect([...s.hostPorts]).toEqual(['8080/tcp']);
  });

  it('buildNodeSnapshots gives the same snapshots in one pass', () => {
    const nodes = [aGantryNode({ name: 'n1' }), aGantryNode({ name: 'n2' }), aGantryNode({ name: 'n3' })];
    const instances = [anInstance({ name: 'a', node: 'n1' }), anInstance({ name: 'b', node: 'n2' }), anInstance({ name: 'c', node: 'n2' }), anInstance({ name: 'd' })];
    expect(buildNodeSnapshots(nodes, instances)).toEqual(nodes.map((n) => buildNodeSnapshot(n, instances)));
  });
});

describe('placementRequestFor', () => {
  it('names the instance and its service by namespace and carries resources, ports and placement', () => {
    const inst = anInstance({
      name: 'web-x1y2z',
      namespace: 'shop',
      service: 'web',
      cpu: 250,
      memory: 128 * MiB,
      containers: [
        { name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080, protocol: 'tcp' }, { name: 'dyn', containerPort: 9000 }] },
        { name: 'side', image: 'y', ports: [{ name: 'stats', containerPort: 9100, hostPort: 9100, protocol: 'udp' }] },
      ],
      placement: { constraints: ['rack!=c'], spread: ['rack'] },
    });
    expect(placementRequestFor(inst)).toEqual({
      id: 'shop/web-x1y2z',
      serviceKey: 'shop/web',
      resources: { cpu: 250, memory: 128 * MiB },
      hostPorts: ['8080/tcp', '9100/udp'],
      constraints: ['rack!=c'],
      spread: ['rack'],
    });
  });

  it('has no constraints or spread when the instance has no placement', () => {
    const r = placementRequestFor(anInstance());
    expect(r.constraints).toEqual([]);
    expect(r.spread).toEqual([]);
    expect(r.hostPorts).toEqual([]);
  });
});
