import { describe, expect, it } from 'vitest';
import type { Instance } from '../../core/index.js';
import { anInstance } from '../../core/test-builders.js';
import { awaitsNodeReturn, KEEP_ORIGINAL_MAX_MS, replacementOf, revived } from './node-return.js';

const LOST_AT = Date.parse('2025-01-01T00:00:00Z');

function stored(name: string, node: string, createdAt: number, status: Instance['status']): Instance {
  return { ...anInstance(name, { node, ...(status ? { status } : {}) }), metadata: { name, namespace: 'default', uid: `u-${name}`, revision: 1, createdAt: new Date(createdAt).toISOString() } };
}

const running = { phase: 'Running' as const, ready: true, containers: [{ name: 'main', state: 'running' as const, restartCount: 0, hostPorts: {} }] };
const lost = { ...running, phase: 'Lost' as const, ready: false, reason: 'NodeLost', updatedAt: new Date(LOST_AT).toISOString() };

describe('node return (KeepOriginal)', () => {
  it('keeps only originals lost to silence, for KeepOriginal services, for at most an hour', () => {
    const original = stored('web-1', 'a', LOST_AT - 60_000, lost);
    expect(awaitsNodeReturn('KeepOriginal', original, LOST_AT + 1000)).toBe(true);
    expect(awaitsNodeReturn('KeepOriginal', original, LOST_AT + KEEP_ORIGINAL_MAX_MS)).toBe(false);
    expect(awaitsNodeReturn('KeepReplacement', original, LOST_AT + 1000)).toBe(false);
    expect(awaitsNodeReturn(undefined, original, LOST_AT + 1000)).toBe(false);
    expect(awaitsNodeReturn('KeepOriginal', stored('web-2', 'a', 0, { ...lost, reason: 'NodeDeleted' }), LOST_AT)).toBe(false);
    expect(awaitsNodeReturn('KeepOriginal', stored('web-3', 'a', 0, running), LOST_AT)).toBe(false);
  });

  it('picks the newest live instance elsewhere made since the loss, once per original', () => {
    const original = stored('web-1', 'a', LOST_AT - 60_000, lost);
    const older = stored('web-old', 'b', LOST_AT - 30_000, running);
    const first = stored('web-r1', 'b', LOST_AT + 500, running);
    const second = stored('web-r2', 'c', LOST_AT + 900, running);
    const sameNode = stored('web-same', 'a', LOST_AT + 1000, running);
    const stopping = { ...stored('web-stop', 'b', LOST_AT + 2000, running), spec: { ...first.spec, stop: { at: '', reason: 'x' } } };
    const siblings = [original, older, first, second, sameNode, stopping];
    expect(replacementOf(original, siblings, new Set())?.metadata.name).toBe('web-r2');
    expect(replacementOf(original, siblings, new Set(['web-r2']))?.metadata.name).toBe('web-r1');
    expect(replacementOf(original, siblings, new Set(['web-r1', 'web-r2']))).toBeUndefined();
  });

  it('revives the original as its containers last were', () => {
    const back = revived(stored('web-1', 'a', 0, lost), 'a', LOST_AT + 5000);
    expect(back.status).toMatchObject({ phase: 'Running', ready: true, reason: 'NodeReturned' });
    const waiting = revived(stored('web-2', 'a', 0, { ...lost, containers: [{ name: 'main', state: 'waiting', restartCount: 1, hostPorts: {} }] }), 'a', LOST_AT);
    expect(waiting.status).toMatchObject({ phase: 'Starting', ready: false });
  });
});
