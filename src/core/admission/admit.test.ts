import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults.js';
import { ForbiddenError, InvalidError } from '../errors.js';
import type { Job, Manifest, Namespace, NamespaceSpec, Service } from '../schema.js';
import { aService, stored } from '../test-builders.js';
import { admit } from './admit.js';
import { namespaceUsage, quotaExcesses, serviceUsage } from './quota.js';

const ns = (spec: NamespaceSpec, name = 'team-a'): Namespace => stored<Namespace>({ apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name }, spec });
const svc = (name: string, replicas: number, extra: Record<string, unknown> = {}): Manifest<Service> =>
  applyDefaults(aService(name, { namespace: 'team-a', replicas, cpu: '250m', memory: '64Mi', spec: extra }));
const storedSvc = (m: Manifest<Service>): Service => stored<Service>(m);

function refusal(f: () => void): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('admit', () => {
  it('refuses what the namespace profile forbids (baseline by default) with field paths, and admits it under privileged', () => {
    const m = svc('web', 1, { hostNetwork: true, volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }] });
    const e = refusal(() => admit({ manifest: m, namespace: ns({}), services: [], jobs: [] }));
    expect(e).toBeInstanceOf(InvalidError);
    expect(e.message).toBe('service "web" is not allowed in namespace "team-a" (admission profile baseline): 2 problems');
    expect((e as InvalidError).details?.map((d) => d.path)).toEqual(['spec.hostNetwork', 'spec.volumes[0].hostPath']);
    expect(() => admit({ manifest: m, namespace: ns({ profile: 'privileged' }), services: [], jobs: [] })).not.toThrow();
    expect(() => admit({ manifest: m, namespace: undefined, services: [], jobs: [] })).toThrow(InvalidError);
  });

  it('judges a CronJob by its job template', () => {
    const cron = { apiVersion: 'gantry/v1', kind: 'CronJob', metadata: { name: 'c', namespace: 'team-a' }, spec: { schedule: '@hourly', jobTemplate: { containers: [{ name: 'm', image: 'x', securityContext: { privileged: true } }] } } } as unknown as Manifest;
    const e = refusal(() => admit({ manifest: cron, namespace: ns({}), services: [], jobs: [] })) as InvalidError;
    expect(e.details?.map((d) => d.path)).toEqual(['spec.jobTemplate.containers[0].securityContext.privileged']);
  });

  it('refuses an apply or scale past a quota, naming the quota, the use and the ask; a change that asks no more passes', () => {
    const quota = ns({ quota: { instances: 10, cpu: '3', memory: '1Gi', services: 3, exposedPorts: 1 } });
    const others = [storedSvc(svc('a', 4)), storedSvc(svc('b', 4))];
    const e = refusal(() => admit({ manifest: svc('c', 5), namespace: quota, services: others, jobs: [] }));
    expect(e).toBeInstanceOf(ForbiddenError);
    expect(e.message).toBe('service "c" would exceed the quota of namespace "team-a": quota cpu exceeded: 2 used, 1250m asked, 3 allowed; quota instances exceeded: 8 used, 5 asked, 10 allowed');
    expect(() => admit({ manifest: svc('c', 2), namespace: quota, services: others, jobs: [] })).not.toThrow();
    // The object itself is not counted twice: scaling b from 4 to 6 asks 6 against the others' 4.
    expect(() => admit({ manifest: svc('b', 6), namespace: quota, current: others[1], services: others, jobs: [] })).not.toThrow();
    // Over quota already (it was lowered): scaling down or an unrelated change still passes.
    const tight = ns({ quota: { instances: 2 } });
    expect(() => admit({ manifest: svc('a', 3), namespace: tight, current: others[0], services: others, jobs: [] })).not.toThrow();
    expect(() => admit({ manifest: svc('a', 5), namespace: tight, current: others[0], services: others, jobs: [] })).toThrow(/quota instances exceeded: 4 used, 5 asked, 2 allowed/);
    const exposed = svc('d', 1, { expose: [{ port: 'http', servicePort: 18080 }, { port: 'http', hostname: 'd.example.com' }] });
    expect(() => admit({ manifest: exposed, namespace: quota, services: [], jobs: [] })).toThrow(/quota exposedPorts exceeded: 0 used, 2 asked, 1 allowed/);
    expect(() => admit({ manifest: svc('e', 1), namespace: ns({ quota: { services: 2 } }), services: others, jobs: [] })).toThrow(/quota services exceeded: 2 used, 1 asked, 2 allowed/);
  });

  it('counts Services and unfinished Jobs, not finished ones', () => {
    const job = (phase: 'Running' | 'Succeeded'): Job =>
      stored<Job>({ apiVersion: 'gantry/v1', kind: 'Job', metadata: { name: `j-${phase}`, namespace: 'team-a' }, spec: { containers: [{ name: 'm', image: 'x', resources: { cpu: '100m', memory: '32Mi' } }], parallelism: 2, completions: 4 }, status: { phase, active: 0, succeeded: 0, failed: 0, runs: [], conditions: [] } });
    const u = namespaceUsage([storedSvc(svc('a', 2))], [job('Running'), job('Succeeded')]);
    expect(u).toEqual({ cpu: 700, memory: 2 * 64 * 2 ** 20 + 2 * 32 * 2 ** 20, instances: 4, services: 1, exposedPorts: 0 });
    expect(serviceUsage(svc('x', 0).spec).instances).toBe(0);
    expect(quotaExcesses({ memory: '100Mi' }, u, serviceUsage(svc('x', 1).spec))[0]).toMatchObject({ resource: 'memory' });
  });
});
