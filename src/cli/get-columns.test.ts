import { describe, expect, it } from 'vitest';
import { formatPorts, tableFor } from './get-columns.js';
import { aNode, anInstance, aService, GiB, stored } from '../core/test-builders.js';
import { ago, anEvent, NOW } from './test-helpers.js';

const plain = { wide: false, allNamespaces: false, now: NOW };

describe('tableFor', () => {
  it('shows services as ready/replicas with their age, sorted by name', () => {
    const t = tableFor('Service', [
      stored(aService('web', { replicas: 3, status: { replicas: 3, readyReplicas: 1, conditions: [] } }), { createdAt: ago(300) }),
      stored(aService('api', { replicas: 2, status: { replicas: 2, readyReplicas: 2, conditions: [] } }), { createdAt: ago(30) }),
    ], plain);
    expect(t.headers).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'VERSION', 'AGE']);
    expect(t.rows).toEqual([
      ['api', '2/2', '0', '0', '<none>', '30s'],
      ['web', '1/3', '0', '0', '<none>', '5m'],
    ]);
  });

  it('adds images and generation to services with -o wide', () => {
    const t = tableFor('Service', [stored(aService('web', { replicas: 3, image: 'nginx:1', generation: 1, status: { replicas: 3, readyReplicas: 3, conditions: [] } }), { createdAt: ago(300) })], { ...plain, wide: true });
    expect(t.headers).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'VERSION', 'AGE', 'ROLLOUT', 'IMAGES', 'GENERATION', 'LB']);
    expect(t.rows[0]).toEqual(['web', '3/3', '0', '0', '<none>', '5m', '<none>', 'nginx:1', '1', '<none>']);
  });

  it('shows what the load balancer serves in the LB column of -o wide', () => {
    const s = stored(aService('web'));
    const exposed = { ...s, spec: { ...s.spec, expose: [{ port: 'http', servicePort: 18080, mode: 'http' as const }] } };
    const up = (instance: string, state: string) => ({ slot: 1, instance, address: '127.0.0.1', port: 20001, state });
    const lb = {
      kind: 'LoadBalancerStatus' as const,
      namespace: 'default',
      service: 'web',
      enabled: true,
      entries: [{ port: 'http', mode: 'http' as const, servicePort: 18080, frontends: ['127.0.0.1:18080'], state: 'Serving' as const, servers: [up('a', 'UP'), up('b', 'DOWN'), up('c', 'UP 1/2')] }],
    };
    const t = tableFor('Service', [exposed], { ...plain, wide: true, loadBalancers: new Map([['default/web', lb]]) });
    expect(t.rows[0]?.at(-1)).toBe('127.0.0.1:18080 2/3');
    const failed = { ...lb, entries: [{ ...lb.entries[0]!, state: 'Failed' as const, servers: [] }] };
    expect(tableFor('Service', [exposed], { ...plain, wide: true, loadBalancers: new Map([['default/web', failed]]) }).rows[0]?.at(-1)).toBe('127.0.0.1:18080 Failed');
    expect(tableFor('Service', [exposed], { ...plain, wide: true, loadBalancers: new Map([['default/web', { ...lb, enabled: false }]]) }).rows[0]?.at(-1)).toBe('off');
  });

  it('shows the version, up-to-date and available counts and the rollout phase of a service', () => {
    const s = stored(aService('web', { replicas: 4, status: { replicas: 4, readyReplicas: 4, conditions: [] } }), { createdAt: ago(300) });
    const rolling = { ...s, status: { ...s.status!, version: 2, updatedReplicas: 2, availableReplicas: 3, rollout: { phase: 'Progressing' as const, version: 2 } } };
    const t = tableFor('Service', [rolling], { ...plain, wide: true });
    expect(t.rows[0]?.slice(0, 7)).toEqual(['web', '4/4', '2', '3', 'v2', '5m', 'Progressing']);
  });

  it('shows instances with node, phase and published ports', () => {
    const t = tableFor('Instance', [
      anInstance('web-abcde', { node: 'n1', createdAt: ago(60), status: { phase: 'Running', ready: true, hostIP: '127.0.0.1', containers: [{ name: 'web', state: 'running', restartCount: 2, hostPorts: { http: 32768 } }] } }),
      anInstance('web-zzzzz', { createdAt: ago(60) }),
    ], plain);
    expect(t.headers).toEqual(['NAME', 'SERVICE', 'NODE', 'PHASE', 'READY', 'PORTS', 'RESTARTS', 'AGE']);
    expect(t.rows).toEqual([
      ['web-abcde', 'web', 'n1', 'Running', 'true', 'http:127.0.0.1:32768', '2', '60s'],
      ['web-zzzzz', 'web', '<none>', 'Pending', 'false', '<none>', '0', '60s'],
    ]);
  });

  it('adds containers and the message to instances with -o wide', () => {
    const t = tableFor('Instance', [anInstance('web-abcde', { containers: [{ name: 'web', image: 'gantry-examples/hello:1' }], status: { phase: 'Pending', ready: false, message: 'image "x" not found', containers: [] } })], { ...plain, wide: true });
    expect(t.rows[0]?.slice(-2)).toEqual(['web', 'image "x" not found']);
  });

  it('marks cordoned and draining nodes in the READY column', () => {
    const cordoned = { ...stored(aNode('n1', { ready: true })), spec: { unschedulable: true } };
    const draining = { ...stored(aNode('n2', { ready: false })), spec: { unschedulable: true, draining: true } };
    expect(tableFor('Node', [cordoned, draining, stored(aNode('n3', { ready: true }))], plain).rows.map((r) => r[1])).toEqual(['true,cordoned', 'false,draining', 'true']);
  });

  it('shows node capacity, labels and instance counts when given', () => {
    const nodes = [
      stored(aNode('n1', { cpu: 2, memory: 4 * GiB, labels: { rack: 'a', pool: 'web' } }), { createdAt: ago(3600) }),
      stored(aNode('n2', { cpu: 2, memory: 4 * GiB, ready: false }), { createdAt: ago(3600) }),
    ];
    const t = tableFor('Node', nodes, { ...plain, instancesPerNode: new Map([['n1', 4]]) });
    expect(t.headers).toEqual(['NAME', 'READY', 'CPU', 'MEMORY', 'INSTANCES', 'LABELS', 'AGE']);
    expect(t.rows).toEqual([
      ['n1', 'true', '2', '4Gi', '4', 'rack=a,pool=web', '60m'],
      ['n2', 'false', '2', '4Gi', '0', '<none>', '60m'],
    ]);
    expect(tableFor('Node', nodes, plain).headers).not.toContain('INSTANCES');
  });

  it('lists events oldest first, naming the object and counting repeats', () => {
    const t = tableFor('Event', [
      anEvent('e2', { involved: { kind: 'Instance', name: 'web-abcde' }, reason: 'Started', ageSeconds: 5, count: 3, message: 'started' }),
      anEvent('e1', { involved: { kind: 'Service', name: 'web' }, reason: 'Created', ageSeconds: 50 }),
    ], plain);
    expect(t.headers).toEqual(['LAST', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(t.rows).toEqual([
      ['50s', 'Normal', 'Created', 'service/web', 'placed'],
      ['5s', 'Normal', 'Started', 'instance/web-abcde', 'started (x3)'],
    ]);
    const wide = tableFor('Event', [anEvent('e1', { involved: { kind: 'Service', name: 'web' }, message: 'placed web-abcde on n1' })], { ...plain, wide: true });
    expect(wide.headers).toEqual(['LAST', 'TYPE', 'REASON', 'OBJECT', 'FROM', 'MESSAGE']);
    expect(wide.rows[0]?.slice(3)).toEqual(['service/web', 'scheduler', 'placed web-abcde on n1']);
  });

  it('puts a NAMESPACE column first with -A, for namespaced kinds only', () => {
    const all = { ...plain, allNamespaces: true };
    const t = tableFor('Service', [stored(aService('web', { namespace: 'team-b' })), stored(aService('web', { namespace: 'team-a' }))], all);
    expect(t.headers[0]).toBe('NAMESPACE');
    expect(t.rows.map((r) => r[0])).toEqual(['team-a', 'team-b']);
    expect(tableFor('Node', [stored(aNode('n1'))], all).headers[0]).toBe('NAME');
  });
});

describe('formatPorts', () => {
  it('leaves out the host when the instance has none', () => {
    const i = anInstance('web-abcde', { node: 'n1', status: { phase: 'Running', ready: true, hostIP: '127.0.0.1', containers: [{ name: 'web', state: 'running', restartCount: 0, hostPorts: { http: 30000 } }] } });
    delete i.status!.hostIP;
    expect(formatPorts(i)).toBe('http:30000');
  });
});
