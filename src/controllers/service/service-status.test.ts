import { describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../../core/index.js';
import { sameStatus } from './service-status.js';

const base: ServiceStatus = {
  replicas: 3,
  readyReplicas: 2,
  observedGeneration: 4,
  conditions: [
    { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: '2/3 replicas ready', lastTransitionTime: '2025-01-01T00:00:00Z' },
    { type: 'Progressing', status: 'True', reason: 'WaitingForReady', message: '2/3 replicas ready', lastTransitionTime: '2025-01-01T00:00:00Z' },
  ],
};

describe('sameStatus', () => {
  it('is true for an equal status in a different object, false when nothing was written yet', () => {
    expect(sameStatus(structuredClone(base), base)).toBe(true);
    expect(sameStatus(undefined, base)).toBe(false);
  });

  it.each<[string, (s: ServiceStatus) => ServiceStatus]>([
    ['replicas', (s) => ({ ...s, replicas: 4 })],
    ['readyReplicas', (s) => ({ ...s, readyReplicas: 3 })],
    ['observedGeneration', (s) => ({ ...s, observedGeneration: 5 })],
    ['a missing observedGeneration', ({ observedGeneration: _g, ...s }) => s],
    ['a condition more', (s) => ({ ...s, conditions: [...s.conditions, { type: 'Unschedulable', status: 'False' }] })],
    ['a condition message', (s) => ({ ...s, conditions: [s.conditions[0]!, { ...s.conditions[1]!, message: '3/3 replicas ready' }] })],
    ['a transition time', (s) => ({ ...s, conditions: [{ ...s.conditions[0]!, lastTransitionTime: '2025-01-01T00:00:01Z' }, s.conditions[1]!] })],
    ['version', (s) => ({ ...s, version: 2 })],
    ['updatedReplicas', (s) => ({ ...s, updatedReplicas: 1 })],
    ['availableReplicas', (s) => ({ ...s, availableReplicas: 1 })],
    ['a rollout', (s) => ({ ...s, rollout: { phase: 'Progressing', version: 2 } })],
    ['a condition status', (s) => ({ ...s, conditions: [{ ...s.conditions[0]!, status: 'True' }, s.conditions[1]!] })],
  ])('notices a different %s', (_what, change) => {
    expect(sameStatus(base, change(base))).toBe(false);
    expect(sameStatus(change(base), base)).toBe(false);
  });
});
