import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContainerSpec, SecurityContext, VolumeSpec } from '../schema.js';
import { BASELINE_CAPABILITIES, effectiveCapabilities, profileErrors, type PodSpecLike } from './profiles.js';

const c = (sc?: SecurityContext, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({ name: 'main', image: 'busybox:1', ...(sc ? { securityContext: sc } : {}), ...extra });
const paths = (spec: PodSpecLike, profile: 'baseline' | 'restricted' | 'privileged' = 'baseline'): string[] => profileErrors(profile, spec, 'spec').map((e) => e.path);

/** What no spec admitted under Baseline may carry (the Pod Security Standards' Baseline, as Gantry's fields). */
function forbiddenUnderBaseline(spec: PodSpecLike): string[] {
  const out: string[] = [];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespace');
  if ((spec.volumes ?? []).some((v) => v.hostPath)) out.push('hostPath');
  for (const x of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const sc = x.securityContext;
    if (sc?.privileged) out.push('privileged');
    if (sc?.seccompProfile?.type === 'Unconfined') out.push('seccomp');
    if ((sc?.capabilities?.add ?? []).some((cap) => !BASELINE_CAPABILITIES.includes(cap))) out.push('capability');
    if (effectiveCapabilities(sc).some((cap) => !BASELINE_CAPABILITIES.includes(cap))) out.push('effective capability');
    if ((x.ports ?? []).some((p) => p.hostPort !== undefined && (p.hostPort < 20000 || p.hostPort > 29999))) out.push('hostPort');
  }
  return out;
}

describe('admission profiles', () => {
  it('baseline refuses privileged, host namespaces, host paths, capabilities beyond its list, Unconfined seccomp and host ports outside the range, each by its path', () => {
    const spec: PodSpecLike = {
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }, { name: 'data', namedVolume: {} }],
      containers: [c({ privileged: true, capabilities: { add: ['NET_BIND_SERVICE', 'SYS_ADMIN'] } }), c({ seccompProfile: { type: 'Unconfined' } }, { ports: [{ name: 'h', containerPort: 80, hostPort: 80 }] })],
      initContainers: [c({ capabilities: { add: ['NET_RAW'] } })],
    };
    expect(paths(spec)).toEqual([
      'spec.hostNetwork',
      'spec.hostPID',
      'spec.hostIPC',
      'spec.volumes[0].hostPath',
      'spec.containers[0].securityContext.privileged',
      'spec.containers[0].securityContext.capabilities.add[1]',
      'spec.containers[1].securityContext.seccompProfile.type',
      'spec.containers[1].ports[0].hostPort',
      'spec.initContainers[0].securityContext.capabilities.add[0]',
    ]);
    expect(profileErrors('baseline', spec, 'spec')[5]?.message).toMatch(/SYS_ADMIN is not allowed; only AUDIT_WRITE, .* may be added \(profile baseline\)/);
    expect(paths(spec, 'privileged')).toEqual([]);
    expect(paths({ containers: [c(undefined, { ports: [{ name: 'h', containerPort: 80, hostPort: 24000 }] })], volumes: [{ name: 'd', namedVolume: {} }] })).toEqual([]);
  });

  it('restricted wants non-root, drop ALL, a read-only root filesystem, RuntimeDefault seccomp and no escalation', () => {
    expect(paths({ containers: [c()] }, 'restricted')).toEqual([
      'spec.containers[0].securityContext.runAsNonRoot',
      'spec.containers[0].securityContext.capabilities.drop',
      'spec.containers[0].securityContext.readOnlyRootFilesystem',
      'spec.containers[0].securityContext.seccompProfile.type',
    ]);
    const good: SecurityContext = { runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } };
    expect(paths({ containers: [c(good)] }, 'restricted')).toEqual([]);
    expect(paths({ containers: [c({ ...good, runAsUser: 0, allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'], add: ['CHOWN'] } })] }, 'restricted')).toEqual([
      'spec.containers[0].securityContext.capabilities.add[0]',
      'spec.containers[0].securityContext.runAsUser',
      'spec.containers[0].securityContext.allowPrivilegeEscalation',
    ]);
  });

  it('effective capabilities: Baseline set minus drop plus add; drop ALL starts from none', () => {
    expect(effectiveCapabilities(undefined)).toEqual([...BASELINE_CAPABILITIES].sort());
    expect(effectiveCapabilities({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } })).toEqual(['NET_BIND_SERVICE']);
    expect(effectiveCapabilities({ capabilities: { drop: ['KILL', 'CHOWN'] } })).not.toContain('KILL');
    expect(effectiveCapabilities({ capabilities: { add: ['NET_RAW'] } })).toContain('NET_RAW');
  });

  it('property: no spec that passes Baseline carries a forbidden field, and none that carries one passes', () => {
    // Mostly harmless values with a few forbidden ones, so both sides of the property are reached.
    const rarely = fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
    const cap = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...BASELINE_CAPABILITIES) }, { weight: 1, arbitrary: fc.constantFrom('ALL', 'SYS_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'NET_ADMIN', 'SYS_MODULE') });
    const sc: fc.Arbitrary<SecurityContext> = fc.record(
      {
        privileged: rarely,
        capabilities: fc.record({ add: fc.array(cap, { maxLength: 3 }), drop: fc.array(cap, { maxLength: 3 }) }, { requiredKeys: [] }),
        readOnlyRootFilesystem: fc.boolean(),
        allowPrivilegeEscalation: fc.boolean(),
        seccompProfile: fc.record({ type: fc.oneof({ weight: 6, arbitrary: fc.constant('RuntimeDefault' as const) }, { weight: 1, arbitrary: fc.constant('Unconfined' as const) }) }),
        runAsUser: fc.integer({ min: 0, max: 2000 }),
        runAsNonRoot: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const port = fc.record({ name: fc.constant('p'), containerPort: fc.constant(80), hostPort: fc.option(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 20000, max: 29999 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }) }), { nil: undefined, freq: 2 }) });
    const container = fc.record({ name: fc.constant('main'), image: fc.constant('busybox:1'), securityContext: fc.option(sc, { nil: undefined }), ports: fc.array(port, { maxLength: 2 }) });
    const volume: fc.Arbitrary<VolumeSpec> = fc.oneof(
      { weight: 5, arbitrary: fc.constant({ name: 'v', namedVolume: {} }) },
      fc.constantFrom('/var/run/docker.sock', '/', '/etc', '/data').map((path) => ({ name: 'h', hostPath: { path } })),
    );
    const pod: fc.Arbitrary<PodSpecLike> = fc.record(
      {
        containers: fc.array(container, { minLength: 1, maxLength: 3 }),
        initContainers: fc.array(container, { maxLength: 2 }),
        volumes: fc.array(volume, { maxLength: 3 }),
        hostNetwork: rarely,
        hostPID: rarely,
        hostIPC: rarely,
      },
      { requiredKeys: ['containers'] },
    );
    let admitted = 0;
    fc.assert(
      fc.property(pod, (spec) => {
        const passes = profileErrors('baseline', spec, 'spec').length === 0;
        if (passes) admitted++;
        expect(passes).toBe(forbiddenUnderBaseline(spec).length === 0);
      }),
      { numRuns: 2000, seed: 1313 },
    );
    // The generator must reach both sides, or the property says nothing.
    expect(admitted).toBeGreaterThan(100);
    expect(admitted).toBeLessThan(1900);
  });
});
