import { describe, expect, it } from 'vitest';
import type { GantryNode } from '../core/index.js';
import { nodeSchedulingChanged } from './node-triggers.js';
import { aNode } from './test-builders.js';

function stored(o: Parameters<typeof aNode>[0] = {}): GantryNode {
  const n = aNode({ lastHeartbeat: '2025-01-01T00:00:00Z', ...o });
  return { ...n, metadata: { ...n.metadata, uid: 'u1', revision: 1, createdAt: '2025-01-01T00:00:00Z' } };
}

describe('nodeSchedulingChanged', () => {
  const base = stored({ labels: { rack: 'a' } });

  it('ignores a heartbeat: new lastHeartbeat, new revision, same everything else', () => {
    const beat: GantryNode = {
      ...base,
      metadata: { ...base.metadata, revision: 2 },
      status: { ...base.status!, lastHeartbeat: '2025-01-01T00:00:05Z' },
    };
    expect(nodeSchedulingChanged(base, beat)).toBe(false);
    expect(nodeSchedulingChanged(base, base)).toBe(false);
  });

  it.each<[string, (n: GantryNode) => GantryNode]>([
    ['ready', (n) => ({ ...n, status: { ...n.status!, ready: false } })],
    ['cordoned', (n) => ({ ...n, spec: { ...n.spec, unschedulable: true } })],
    ['capacity', (n) => ({ ...n, status: { ...n.status!, capacity: { cpu: 1000, memory: 1 } } })],
    ['labels', (n) => ({ ...n, metadata: { ...n.metadata, labels: { rack: 'b' } } })],
    ['overcommit', (n) => ({ ...n, spec: { ...n.spec, overcommit: { cpu: 2 } } })],
    ['reserved', (n) => ({ ...n, spec: { ...n.spec, reserved: { memory: '1Gi' } } })],
  ])('notices a change of %s', (_what, change) => {
    expect(nodeSchedulingChanged(base, change(base))).toBe(true);
  });
});
