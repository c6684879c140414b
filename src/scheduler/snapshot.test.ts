import { describe, expect, it } from 'vitest';
import { buildNodeSnapshot, buildNodeSnapshots, holdsResources, placementRequestFor } from './snapshot.js';
import { aNode, anInstance, GiB, MiB, stored } from '../core/test-builders.js';

describe('buildNodeSnapshot', () => {
  it('takes capacity, labels and readiness from the node, with no overcommit or reserve by default', () => {
    const s = buildNodeSnapshot(stored(aNode('n1', { cpu: 2, memory: GiB, labels: { rack: 'a' }, ready: true })), []);
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
      stored(aNode('n1', { spec: { unschedulable: true, overcommit: { cpu: 4 }, reserved: { cpu: '500m', memory: '256Mi' } }, ready: true })),
      [],
    );
    expect(s.unschedulable).toBe(true);
    expect(s.overcommit).toEqual({ cpu: 4, memory: 1 });
    expect(s.reserved).toEqual({ cpu: 500, memory: 256 * MiB });
  });

  it('a draining node is unschedulable even without the cordon flag', () => {
    expect(buildNodeSnapshot(stored(aNode('n1', { spec: { draining: true }, ready: true })), []).unschedulable).toBe(true);
    expect(buildNodeSnapshot(stored(aNode('n1', { spec: { draining: false }, ready: true })), []).unschedulable).toBe(false);
  });

  it('a node that never reported status is not ready and has no capacity', () => {
    const s = buildNodeSnapshot(stored(aNode('n1')), []);
    expect(s.ready).toBe(false);
    expect(s.capacity).toEqual({ cpu: 0, memory: 0 });
    expect(buildNodeSnapshot(stored(aNode('n1', { ready: false })), []).ready).toBe(false);
  });

  it('sums instances bound to this node that have not finished, with their ports and services', () => {
    const instances = [
      anInstance('web-1', { node: 'n1', cpu: 100, memory: 64 * MiB, containers: [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }, { name: 'dyn', containerPort: 81 }] }] }),
      anInstance('web-2', { node: 'n1', cpu: 200, memory: 64 * MiB }),
      anInstance('dns-1', { service: 'dns', namespace: 'infra', node: 'n1', cpu: 50, memory: MiB, containers: [{ name: 'main', image: 'x', ports: [{ name: 'dns', containerPort: 53, hostPort: 53, protocol: 'udp' }] }] }),
      anInstance('old', { node: 'n1', cpu: 1000, status: { phase: 'Succeeded', ready: false, containers: [] } }),
      anInstance('dead', { node: 'n1', cpu: 1000, status: { phase: 'Failed', ready: false, containers: [] } }),
      anInstance('elsewhere', { node: 'n2', cpu: 1000 }),
      anInstance('unbound', { cpu: 1000 }),
    ];
    const s = buildNodeSnapshot(stored(aNode('n1', { ready: true })), instances);
    expect(s.used).toEqual({ cpu: 350, memory: 129 * MiB });
    expect([...s.hostPorts].sort()).toEqual(['53/udp', '8080/tcp']);
    expect(Object.fromEntries(s.serviceCounts)).toEqual({ 'default/web': 2, 'infra/dns': 1 });
  });

  it('a Lost instance still holds its resources and host ports (its containers may still run there); terminal ones do not', () => {
    const ports = [{ name: 'main', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }] }];
    const lost = anInstance('lost', { node: 'n1', cpu: 300, memory: MiB, containers: ports, status: { phase: 'Lost', ready: false, containers: [] } });
    expect(holdsResources(lost)).toBe(true);
    expect(holdsResources(anInstance('web-abcde', { node: 'n1', status: { phase: 'Failed', ready: false, containers: [] } }))).toBe(false);
    expect(holdsResources(anInstance('web-abcde', { node: 'n1', status: { phase: 'Succeeded', ready: false, containers: [] } }))).toBe(false);
    expect(holdsResources(anInstance('web-abcde', { status: { phase: 'Lost', ready: false, containers: [] } }))).toBe(false);
    const s = buildNodeSnapshot(stored(aNode('n1', { ready: true })), [lost]);
    expect(s.used).toEqual({ cpu: 300, memory: MiB });
    expect([...s.hostPorts]).toEqual(['8080/tcp']);
  });

  it('buildNodeSnapshots gives the same snapshots in one pass', () => {
    const nodes = [stored(aNode('n1', { ready: true })), stored(aNode('n2', { ready: true })), stored(aNode('n3', { ready: true }))];
    const instances = [anInstance('a', { node: 'n1' }), anInstance('b', { node: 'n2' }), anInstance('c', { node: 'n2' }), anInstance('d')];
    expect(buildNodeSnapshots(nodes, instances)).toEqual(nodes.map((n) => buildNodeSnapshot(n, instances)));
  });
});

describe('placementRequestFor', () => {
  it('names the instance and its service by namespace and carries resources, ports and placement', () => {
    const inst = anInstance('web-x1y2z', {
      namespace: 'shop',
      service: 'web',
      cpu: 250,
      memory: 128 * MiB,
      containers: [
        { name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 80, hostPort: 8080, protocol: 'tcp' }, { name: 'dyn', containerPort: 9000 }] },
        { name: 'side', image: 'y', ports: [{ name: 'stats', containerPort: 9100, hostPort: 9100, protocol: 'udp' }] },
      ],
      spec: { placement: { constraints: ['rack!=c'], spread: ['rack'] } },
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
    const r = placementRequestFor(anInstance('web-abcde'));
    expect(r.constraints).toEqual([]);
    expect(r.spread).toEqual([]);
    expect(r.hostPorts).toEqual([]);
  });
});
