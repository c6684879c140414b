import { describe, expect, it } from 'vitest';
import type { AnyObject, Service } from '../core/index.js';
import { initialObject, mergeApply, parseManifest } from './apply.js';
import { aService } from '../core/test-builders.js';

const at = { kind: 'Service' as const, namespace: 'default', name: 'web' };

function stored(over: Partial<Service['metadata']> = {}): Service {
  const m = parseManifest(aService('web'), at);
  const o = initialObject(m) as unknown as Service;
  return { ...o, metadata: { ...o.metadata, uid: 'u1', revision: 10, createdAt: '2030-01-01T00:00:00Z', ...over }, status: { replicas: 2, readyReplicas: 1, conditions: [] } };
}

describe('mergeApply', () => {
  it('sees no change when only defaults or an empty label map differ', () => {
    const input = aService('web');
    input.metadata.labels = {};
    expect(mergeApply(stored(), parseManifest(input, at))).toBeUndefined();
  });

  it('keeps identity and status, bumps generation on a spec change and CASes on the read revision', () => {
    const next = mergeApply(stored(), parseManifest(aService('web', { replicas: 9 }), at)) as Service;
    expect(next.metadata).toMatchObject({ uid: 'u1', createdAt: '2030-01-01T00:00:00Z', revision: 10, generation: 2 });
    expect(next.status).toEqual({ replicas: 2, readyReplicas: 1, conditions: [] });
    expect(next.spec.replicas).toBe(9);
  });

  it('uses the revision the user gave', () => {
    const input = aService('web', { replicas: 9 });
    input.metadata.revision = 4;
    expect((mergeApply(stored(), parseManifest(input, at)) as AnyObject).metadata.revision).toBe(4);
  });

  it('drops labels the new manifest no longer has', () => {
    const next = mergeApply(stored({ labels: { team: 'a' } }), parseManifest(aService('web'), at));
    expect(next?.metadata.labels).toBeUndefined();
    expect(next?.metadata.generation).toBe(1);
  });
});

describe('initialObject', () => {
  it('drops server-set metadata from the manifest', () => {
    const input = aService('web');
    Object.assign(input.metadata, { uid: 'forged', revision: 99, createdAt: 'x', generation: 7 });
    const o = initialObject(parseManifest(input, at));
    expect(o.metadata).toEqual({ name: 'web', namespace: 'default', generation: 1 });
  });
});
