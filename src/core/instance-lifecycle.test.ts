import { describe, expect, it } from 'vitest';
import { API_VERSION, type Instance, type InstancePhase } from './schema.js';
import { isFinished, isFinishedPhase, isLive, isLost, isReady, isTerminal, isTerminalPhase, isUnboundPending } from './instance-lifecycle.js';

function inst(phase: InstancePhase | undefined, o: { node?: string; ready?: boolean } = {}): Instance {
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: { name: 'web-abcde', namespace: 'default', uid: 'u', revision: 1, createdAt: '2026-01-01T00:00:00Z' },
    spec: { service: 'web', containers: [{ name: 'main', image: 'x' }], resources: { cpu: 100, memory: 1 }, restartPolicy: 'Always', templateHash: 'h', ...(o.node ? { node: o.node } : {}) },
    ...(phase ? { status: { phase, ready: o.ready ?? false, containers: [] } } : {}),
  };
}

describe('instance lifecycle', () => {
  const table: [InstancePhase, { finished: boolean; terminal: boolean; lost: boolean }][] = [
    ['Pending', { finished: false, terminal: false, lost: false }],
    ['Starting', { finished: false, terminal: false, lost: false }],
    ['Running', { finished: false, terminal: false, lost: false }],
    ['Succeeded', { finished: true, terminal: true, lost: false }],
    ['Failed', { finished: true, terminal: true, lost: false }],
    ['Lost', { finished: true, terminal: false, lost: true }],
  ];

  it.each(table)('%s', (phase, want) => {
    const i = inst(phase);
    expect({ finished: isFinished(i), terminal: isTerminal(i), lost: isLost(i) }).toEqual(want);
    expect(isFinishedPhase(phase)).toBe(want.finished);
    expect(isTerminalPhase(phase)).toBe(want.terminal);
    expect(isLive(i)).toBe(!want.finished);
  });

  it('an instance with no status yet is live, pending and neither finished nor terminal', () => {
    const i = inst(undefined);
    expect([isFinished(i), isTerminal(i), isLost(i), isLive(i), isUnboundPending(i)]).toEqual([false, false, false, true, true]);
    expect(isFinishedPhase(undefined)).toBe(false);
  });

  it('ready only while live; unbound pending only without a node', () => {
    expect(isReady(inst('Running', { ready: true }))).toBe(true);
    expect(isReady(inst('Running', { ready: false }))).toBe(false);
    expect(isReady(inst('Lost', { ready: true }))).toBe(false);
    expect(isUnboundPending(inst('Pending'))).toBe(true);
    expect(isUnboundPending(inst('Pending', { node: 'n1' }))).toBe(false);
    expect(isUnboundPending(inst('Running'))).toBe(false);
  });
});
