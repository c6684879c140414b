import { describe, expect, it } from 'vitest';
import { applyDefaults } from './defaults.js';
import { InvalidError } from './errors.js';
import { validateManifest } from './validate.js';

function serviceDocument(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = { name: 'web' }) {
  return {
    apiVersion: 'gantry/v1',
    kind: 'Service',
    metadata,
    spec: { replicas: 2, containers: [{ name: 'app', image: 'hello:1', ports: [{ name: 'http', containerPort: 8080 }] }], ...spec },
  };
}

function problems(input: unknown): { path: string; message: string }[] {
  try {
    validateManifest(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidError);
    return (e as InvalidError).details ?? [];
  }
  throw new Error('expected the manifest to be rejected');
}

describe('validateManifest', () => {
  it('accepts a valid service and applies defaults that show in the stored object', () => {
    const m = applyDefaults(validateManifest(serviceDocument()));
    expect(m.metadata.namespace).toBe('default');
    expect(m.spec).toMatchObject({ replicas: 2, restartPolicy: 'Always' });
    const c = (m.spec as { containers: { resources: unknown; ports: { protocol: string }[] }[] }).containers[0]!;
    expect(c.resources).toEqual({ cpu: 0.1, memory: '128Mi', cpuMode: 'quota' });
    expect(c.ports[0]!.protocol).toBe('tcp');
  });

  it('asks cpuMode cpuset for whole cores, at the field', () => {
    const p = problems(serviceDocument({ containers: [{ name: 'app', image: 'x', resources: { cpu: '1500m', cpuMode: 'cpuset' } }] }));
    expect(p).toEqual([{ path: 'spec.containers[0].resources.cpu', message: 'must be a whole number of cores like 1 or 2 with cpuMode cpuset (it pins whole cores); got 1500m' }]);
    expect(problems(serviceDocument({ containers: [{ name: 'app', image: 'x', resources: { cpuMode: 'pinned' } }] }))).toEqual([{ path: 'spec.containers[0].resources.cpuMode', message: 'must be quota, shares or cpuset' }]);
    expect(() => validateManifest(serviceDocument({ containers: [{ name: 'app', image: 'x', resources: { cpu: 2, cpuMode: 'cpuset' }, securityContext: { runAsUser: 'auto' } }] }))).not.toThrow();
    expect(problems(serviceDocument({ containers: [{ name: 'app', image: 'x', securityContext: { runAsUser: 'me' } }] }))).toEqual([{ path: 'spec.containers[0].securityContext.runAsUser', message: 'must be a numeric user id or auto' }]);
  });

  it('reports every problem at once with YAML field paths', () => {
    const p = problems(serviceDocument({ replicas: -1, containers: [{ name: 'app', image: 'x', resources: { memory: 'lots' }, colour: 'red' }] }));
    expect(p).toEqual(
      expect.arrayContaining([
        { path: 'spec.replicas', message: 'must be a whole number from 0 to 100000' },
        { path: 'spec.containers[0].resources.memory', message: 'must be a quantity like 128Mi' },
        { path: 'spec.containers[0].colour', message: expect.stringContaining('unknown field') },
      ]),
    );
    expect(p).toHaveLength(3);
  });

  it('rejects unknown top-level and metadata fields, wrong kinds and versions', () => {
    const p = problems({ ...serviceDocument(), apiVersion: 'v1', kind: 'Deployment', extra: 1 });
    expect(p.map((x) => x.path).sort()).toEqual(['apiVersion', 'extra', 'kind']);
    expect(problems(serviceDocument({}, { name: 'web', owner: 'me' }))).toEqual([{ path: 'metadata.owner', message: expect.stringContaining('unknown field') }]);
  });

  it('rejects names that are not DNS labels', () => {
    expect(problems(serviceDocument({}, { name: 'Web_1' }))[0]?.path).toBe('metadata.name');
  });

  it('refuses Gantry-only kinds from users', () => {
    expect(problems({ apiVersion: 'gantry/v1', kind: 'Instance', metadata: { name: 'x' }, spec: {} })[0]).toEqual({
      path: 'kind',
      message: 'Instance objects are written by Gantry only',
    });
  });

  it('checks what a schema cannot: duplicate names and ports, health check port references', () => {
    const p = problems(
      serviceDocument({
        containers: [
          { name: 'a', image: 'x', ports: [{ name: 'http', containerPort: 80 }], healthCheck: { http: { port: 'admin' } } },
          { name: 'a', image: 'y', ports: [{ name: 'http', containerPort: 80 }], healthCheck: { tcp: { port: 80 }, exec: { command: ['true'] } } },
        ],
      }),
    );
    expect(p.map((x) => x.path).sort()).toEqual([
      'spec.containers[0].healthCheck.http.port',
      'spec.containers[1].healthCheck',
      'spec.containers[1].name',
      'spec.containers[1].ports[0].containerPort',
      'spec.containers[1].ports[0].name',
    ]);
  });

  it('pins kind, name and namespace to the URL', () => {
    expect(() => validateManifest(serviceDocument(), { kind: 'Service', name: 'api' })).toThrow(InvalidError);
    expect(problems({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1', namespace: 'default' }, spec: {} })[0]?.path).toBe('metadata.namespace');
  });

  it('refuses cpu limits under 10m: 0 would switch the limit off, and Docker refuses 1m-9m', () => {
    const withCpu = (cpu: string | number) => serviceDocument({ containers: [{ name: 'app', image: 'x', resources: { cpu } }] });
    const tooSmall = { path: 'spec.containers[0].resources.cpu', message: 'must be at least 10m (0.01 core)' };
    for (const cpu of ['0', '0m', '9m', '0.001', 0, 0.005]) expect(problems(withCpu(cpu)), `cpu ${cpu}`).toEqual([tooSmall]);
    for (const cpu of ['10m', '0.01', '250m', 2]) expect(() => validateManifest(withCpu(cpu)), `cpu ${cpu}`).not.toThrow();
  });

  it('keeps the 6Mi memory minimum', () => {
    const withMemory = (memory: string) => serviceDocument({ containers: [{ name: 'app', image: 'x', resources: { memory } }] });
    expect(problems(withMemory('5Mi'))).toEqual([{ path: 'spec.containers[0].resources.memory', message: 'must be at least 6Mi (Docker refuses less)' }]);
    expect(() => validateManifest(withMemory('6Mi'))).not.toThrow();
  });

  it('rejects a document that is not an object', () => {
    expect(problems('replicas: 3')[0]?.path).toBe('(document)');
    expect(problems(null)[0]?.path).toBe('(document)');
  });

  it('checks spec.expose: a declared tcp port, servicePort or hostname, hostname only with mode http, no repeats', () => {
    expect(() => validateManifest(serviceDocument({ expose: [{ port: 'http', servicePort: 18080 }, { port: 'http', hostname: 'web.example.com', mode: 'http' }] }))).not.toThrow();
    const got = problems(
      serviceDocument({
        expose: [
          { port: 'nope', servicePort: 18080 },
          { port: 'http' },
          { port: 'http', hostname: 'a.example.com', mode: 'tcp' },
          { port: 'http', servicePort: 18080, hostname: 'a.example.com' },
        ],
      }),
    );
    expect(got).toEqual([
      { path: 'spec.expose[0].port', message: 'names no port; declare "nope" in containers[].ports' },
      { path: 'spec.expose[1]', message: expect.stringMatching(/must set servicePort .* hostname/) },
      { path: 'spec.expose[2].hostname', message: expect.stringMatching(/needs mode http/) },
      { path: 'spec.expose[3].servicePort', message: '18080 is already exposed at spec.expose[0]' },
      { path: 'spec.expose[3].hostname', message: 'a.example.com is already exposed at spec.expose[2]' },
    ]);
  });

  it('holds HAProxy-bound strings to strict patterns: health-check paths, host names, node addresses', () => {
    const got = problems(
      serviceDocument({
        containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 80 }], healthCheck: { http: { port: 'http', path: '/ok\n  # injected' } } }],
        expose: [{ port: 'http', hostname: 'web example.com' }],
      }),
    );
    expect(got.map((p) => p.path)).toEqual(['spec.containers[0].healthCheck.http.path', 'spec.expose[0].hostname']);
    expect(got[0]?.message).toMatch(/absolute path like \/healthz/);
    const node = (address: string) => ({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec: { address } });
    expect(problems(node('1.2.3.4;shutdown'))).toEqual([{ path: 'spec.address', message: expect.stringMatching(/must be an IP address/) }]);
    expect(() => validateManifest(node('10.0.0.7'))).not.toThrow();
  });
});
