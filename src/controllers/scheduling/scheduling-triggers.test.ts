import { describe, expect, it } from 'vitest';
import type { GantryNode, Instance, InstanceStatus } from '../../core/index.js';
import { newInstanceFor } from '../service/instance-template.js';
import { instanceSchedulingChanged, nodeSchedulingChanged } from './scheduling-triggers.js';
import { aNode, aService, stored } from '../../core/test-builders.js';

describe('nodeSchedulingChanged', () => {
  const base = stored(aNode('n1', { labels: { rack: 'a' }, lastHeartbeat: '2025-01-01T00:00:00Z' }));

  it('ignores a heartbeat: new lastHeartbeat, new revision, same everything else', () => {
    const beat: GantryNode = {
      ...base,
      metadata: { ...base.metadata, revision: 2 },
      status: { ...base.status!, lastHeartbeat: '2025-01-01T00:00:05Z' },
    };
    expect(nodeSchedulingChanged(base, beat)).toBe(false);
    expect(nodeSchedulingChanged(base, base)).toBe(false);
    // The same content in objects of its own (not the store's shared parts): judged by content.
    expect(nodeSchedulingChanged(base, JSON.parse(JSON.stringify(beat)) as GantryNode)).toBe(false);
  });

  it.each<[string, (n: GantryNode) => GantryNode]>([
    ['ready', (n) => ({ ...n, status: { ...n.status!, ready: false } })],
    ['cordoned', (n) => ({ ...n, spec: { ...n.spec, unschedulable: true } })],
    ['capacity', (n) => ({ ...n, status: { ...n.status!, capacity: { cpu: 1000, memory: 1 } } })],
    ['labels', (n) => ({ ...n, metadata: { ...n.metadata, labels: { rack: 'b' } } })],
    ['overcommit', (n) => ({ ...n, spec: { ...n.spec, overcommit: { cpu: 2 } } })],
    ['reserved', (n) => ({ ...n, spec: { ...n.spec, reserved: { memory: '1Gi' } } })],
    ['draining', (n) => ({ ...n, spec: { ...n.spec, draining: true } })],
    ['a pressure condition', (n) => ({ ...n, status: { ...n.status!, conditions: [...n.status!.conditions, { type: 'MemoryPressure', status: 'True', reason: 'Low', message: 'low', lastTransitionTime: '2025-01-01T00:00:00Z' }] } })],
    ['capacity, in a copy of the whole node', (n) => JSON.parse(JSON.stringify({ ...n, status: { ...n.status!, capacity: { cpu: 1, memory: 1 } } })) as GantryNode],
  ])('notices a change of %s', (_what, change) => {
    expect(nodeSchedulingChanged(base, change(base))).toBe(true);
  });
});

describe('instanceSchedulingChanged', () => {
  const svc = aService('web');
  const created = newInstanceFor({ ...svc, metadata: { ...svc.metadata, uid: 'u', revision: 1, createdAt: '2025-01-01T00:00:00Z' } }, 'web-abcde');
  const pending: Instance = { ...created, metadata: { ...created.metadata, uid: 'u2', revision: 2, createdAt: '2025-01-01T00:00:00Z' } };
  const withStatus = (i: Instance, patch: Partial<InstanceStatus>): Instance => ({
    ...i,
    metadata: { ...i.metadata, revision: i.metadata.revision + 1 },
    status: { ...(i.status ?? { phase: 'Pending', ready: false, containers: [] }), ...patch },
  });
  const bound: Instance = { ...withStatus(pending, { node: 'n1' }), spec: { ...pending.spec, node: 'n1' } };

  it('wakes the scheduler when work appears or room frees up', () => {
    expect(instanceSchedulingChanged(bound, withStatus(bound, { phase: 'Failed' }))).toBe(true);
    expect(instanceSchedulingChanged(bound, withStatus(bound, { phase: 'Succeeded' }))).toBe(true);
    expect(instanceSchedulingChanged(bound, withStatus(bound, { phase: 'Lost' }))).toBe(true);
    const unbound: Instance = { ...bound, spec: { ...bound.spec, node: undefined }, status: { phase: 'Pending', ready: false, containers: [] } };
    expect(instanceSchedulingChanged(bound, unbound)).toBe(true);
    expect(instanceSchedulingChanged(pending, pending)).toBe(true); // resync of pending work
  });

  it('ignores status reports, binds and the scheduler\'s own notes', () => {
    const running = withStatus(bound, { phase: 'Running', ready: true });
    expect(instanceSchedulingChanged(bound, running)).toBe(false);
    expect(instanceSchedulingChanged(running, withStatus(running, { ready: false }))).toBe(false);
    expect(instanceSchedulingChanged(pending, bound)).toBe(false);
    expect(instanceSchedulingChanged(pending, withStatus(pending, { reason: 'Unschedulable', message: '0/1 nodes fit' }))).toBe(false);
    expect(instanceSchedulingChanged(running, running)).toBe(false);
    const failed = withStatus(bound, { phase: 'Failed' });
    expect(instanceSchedulingChanged(failed, withStatus(failed, { message: 'again' }))).toBe(false);
  });
});
