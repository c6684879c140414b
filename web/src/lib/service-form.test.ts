import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_FORM, fieldOfPath, formToManifest, joinWords, manifestToForm, manifestToYaml, mapFieldErrors, shellWords, yamlToManifest, type ServiceForm } from './service-form.js';

const web: ServiceForm = {
  ...EMPTY_FORM,
  name: 'web',
  image: 'gantry-examples/hello:1',
  command: `sh -c 'echo "hi there"; httpd -f'`,
  env: 'MODE=prod\nGREETING=a=b',
  ports: 'http:8080, dns:53/udp',
  cpu: '0.25',
  memory: '32Mi',
  replicas: '3',
  healthPort: 'http',
  healthPath: '/healthz',
  constraints: 'rack=a, pool!=gpu',
  spread: 'rack',
  expose: 'http@web.example.com',
};

describe('form -> manifest', () => {
  it('writes every field where the API reads it', () => {
    const m = formToManifest(web);
    expect(m).toMatchObject({ apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' } });
    expect(m.spec.replicas).toBe(3);
    expect(m.spec.containers[0]).toEqual({
      name: 'main',
      image: 'gantry-examples/hello:1',
      command: ['sh', '-c', 'echo "hi there"; httpd -f'],
      env: { MODE: 'prod', GREETING: 'a=b' },
      ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'udp' }],
      healthCheck: { http: { port: 'http', path: '/healthz' } },
      resources: { cpu: 0.25, memory: '32Mi' },
    });
    expect(m.spec.placement).toEqual({ constraints: ['rack=a', 'pool!=gpu'], spread: ['rack'] });
    expect(m.spec.expose).toEqual([{ port: 'http', hostname: 'web.example.com', mode: 'http' }]);
  });

  it('leaves a bad value as typed, for the server to judge (and name the field)', () => {
    const m = formToManifest({ ...web, memory: 'lots', replicas: 'three' });
    expect(m.spec.containers[0]?.resources?.memory).toBe('lots');
    expect(m.spec.replicas).toBe('three');
  });

  it('keeps what the form has no field for from the YAML it started from', () => {
    const base = formToManifest(web);
    base.spec.containers[0]!.securityContext = { readOnlyRootFilesystem: true };
    base.spec.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
    base.spec.update = { maxSurge: 2 };
    const m = formToManifest({ ...web, replicas: '5' }, base);
    expect(m.spec.containers[0]?.securityContext).toEqual({ readOnlyRootFilesystem: true });
    expect(m.spec.containers[1]).toEqual({ name: 'sidecar', image: 'busybox:1.36' });
    expect(m.spec.update).toEqual({ maxSurge: 2 });
    expect(m.spec.replicas).toBe(5);
  });
});

describe('form <-> YAML, both ways', () => {
  it('a form survives form -> YAML -> form', () => {
    const parsed = yamlToManifest(manifestToYaml(formToManifest(web)));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(manifestToForm(parsed.manifest)).toEqual(web);
  });

  it('an edit in the YAML shows in the form', () => {
    const text = manifestToYaml(formToManifest(web)).replace('replicas: 3', 'replicas: 7').replace('memory: 32Mi', 'memory: 1Gi');
    const parsed = yamlToManifest(text);
    expect(parsed.ok && manifestToForm(parsed.manifest)).toMatchObject({ replicas: '7', memory: '1Gi' });
  });

  it('says what is wrong with YAML that is not a Service', () => {
    expect(yamlToManifest('a: [')).toMatchObject({ ok: false });
    expect(yamlToManifest('kind: Job\nmetadata: {name: x}\nspec: {containers: []}')).toEqual({ ok: false, error: 'kind must be Service, not Job' });
    expect(yamlToManifest('kind: Service\nmetadata: {name: x}\nspec: {}')).toEqual({ ok: false, error: 'spec.containers is missing' });
  });

  it('shell words round-trip through the command field', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }), (words) => {
        expect(shellWords(joinWords(words))).toEqual(words);
      }),
    );
  });
});

describe('API field paths -> form fields', () => {
  it.each([
    ['metadata.name', 'name'],
    ['spec.replicas', 'replicas'],
    ['spec.containers[0].image', 'image'],
    ['spec.containers', 'image'],
    ['spec.containers[0].resources.memory', 'memory'],
    ['spec.containers[0].resources.cpu', 'cpu'],
    ['spec.containers[0].env.1BAD', 'env'],
    ['spec.containers[0].ports[1].containerPort', 'ports'],
    ['spec.containers[0].command', 'command'],
    ['spec.containers[0].healthCheck.http.path', 'healthPath'],
    ['spec.containers[0].healthCheck.http.port', 'healthPort'],
    ['spec.placement.constraints[0]', 'constraints'],
    ['spec.placement.spread[0]', 'spread'],
    ['spec.expose[0].hostname', 'expose'],
  ])('%s -> %s', (path, field) => {
    expect(fieldOfPath(path)).toBe(field);
  });

  it('has no field for the second container or fields the form lacks', () => {
    expect(fieldOfPath('spec.containers[1].image')).toBeUndefined();
    expect(fieldOfPath('spec.update.maxSurge')).toBeUndefined();
  });

  it('groups the server details by field and keeps the rest with their paths', () => {
    const r = mapFieldErrors([
      { path: 'spec.containers[0].resources.memory', message: 'must be a quantity like 128Mi' },
      { path: 'spec.update.maxSurge', message: 'must be a number' },
    ]);
    expect(r.byField).toEqual({ memory: 'must be a quantity like 128Mi' });
    expect(r.other).toEqual(['spec.update.maxSurge: must be a number']);
  });
});
