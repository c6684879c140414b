import { describe, expect, it } from 'vitest';
import { aService, stored } from '../../core/test-builders.js';
import { instanceName, newInstanceFor, templateHashOf } from './instance-template.js';
import { seededRandom } from '../shared/test-builders.js';

describe('instance template', () => {
  it('keeps the template hash when the late default cpuMode quota is stored, and counts cpuset cores', () => {
    const plain = stored(aService('api', { cpu: 2 }));
    const defaulted = stored(aService('api', { containers: [{ name: 'main', image: 'busybox:1.36', resources: { cpu: 2, cpuMode: 'quota' } }] }));
    const pinned = stored(aService('api', { containers: [{ name: 'main', image: 'busybox:1.36', resources: { cpu: 2, cpuMode: 'cpuset' } }] }));
    expect(templateHashOf(defaulted)).toBe(templateHashOf(plain));
    expect(templateHashOf(pinned)).not.toBe(templateHashOf(plain));
    expect(newInstanceFor(pinned, 'api-x1y2z').spec.resources).toEqual({ cpu: 2000, memory: 128 * 2 ** 20, cores: 2 });
    expect(newInstanceFor(plain, 'api-x1y2z').spec.resources.cores).toBeUndefined();
  });

  it('keeps the template hash when a health check\'s late default startInterval is stored', () => {
    const check = { http: { port: 'http', path: '/' }, interval: '1s', timeout: '2s', retries: 3, startPeriod: '0s' };
    const container = { name: 'main', image: 'busybox:1.36', resources: { cpu: 2, cpuMode: 'quota' as const }, ports: [{ name: 'http', containerPort: 80 }] };
    const before = stored(aService('api', { containers: [{ ...container, healthCheck: check }] }));
    const defaulted = stored(aService('api', { containers: [{ ...container, healthCheck: { ...check, startInterval: '250ms' } }] }));
    const chosen = stored(aService('api', { containers: [{ ...container, healthCheck: { ...check, startInterval: '100ms' } }] }));
    expect(templateHashOf(defaulted)).toBe(templateHashOf(before));
    expect(templateHashOf(chosen)).not.toBe(templateHashOf(before));
  });

  it('copies the template, sums resources and starts unbound and Pending', () => {
    const svc = stored(aService('api', { namespace: 'prod', cpu: 0.25, memory: '256Mi', constraints: ['rack=a'] }));
    const inst = newInstanceFor(svc, 'api-x1y2z');
    expect(inst.metadata).toEqual({ name: 'api-x1y2z', namespace: 'prod', labels: { 'gantry.io/service': 'api' } });
    expect(inst.spec).toEqual({
      service: 'api',
      containers: svc.spec.containers,
      restartPolicy: 'Always',
      placement: { constraints: ['rack=a'] },
      resources: { cpu: 250, memory: 256 * 2 ** 20 },
      templateHash: templateHashOf(svc),
      termination: { drainDelaySeconds: 2, gracePeriodSeconds: 10, stopSignal: 'SIGTERM' },
    });
    expect(inst.spec.node).toBeUndefined();
    expect(inst.status).toEqual({ phase: 'Pending', ready: false, containers: [] });
  });

  it('changes the template hash with the containers, not with the replica count', () => {
    const base = stored(aService('web'));
    expect(templateHashOf({ ...base, spec: { ...base.spec, replicas: 9 } })).toBe(templateHashOf(base));
    expect(templateHashOf(stored(aService('web', { image: 'busybox:1.37' })))).not.toBe(templateHashOf(base));
    expect(templateHashOf({ ...base, spec: { ...base.spec, restartPolicy: 'Never' } })).not.toBe(templateHashOf(base));
  });

  it('names instances <service>-<5 chars> within the 63-character limit', () => {
    const random = seededRandom(9);
    expect(instanceName('web', random)).toMatch(/^web-[a-z0-9]{5}$/);
    expect(instanceName('web', random)).not.toBe(instanceName('web', random));
    const long = instanceName('a'.repeat(63), random);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a+-[a-z0-9]{5}$/);
  });
});
