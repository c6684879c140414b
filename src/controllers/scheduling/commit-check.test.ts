import { afterEach, describe, expect, it } from 'vitest';
import { aNode } from '../../core/test-builders.js';
import { aRequest } from '../../scheduler/test-helpers.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { aStore } from '../shared/test-builders.js';
import { ClusterState } from './cluster-state.js';
import { CommitCheck, DEFAULT_AUTO_UID_RANGE } from './scheduling-controller.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

describe('CommitCheck', () => {
  it('charges each accepted placement: a second taker of a host port or of the last resources is refused, the state untouched', async () => {
    store = aStore();
    await store.create(aNode('n1', { ready: true, cpu: 1 }));
    const state = await ClusterState.read(store);
    const check = new CommitCheck(state, DEFAULT_AUTO_UID_RANGE);
    expect(check.place('n1', aRequest({ id: 'default/a', service: 'a', cpu: 400, hostPorts: ['8080/tcp'] }))).toBeUndefined();
    expect(check.place('n1', aRequest({ id: 'default/b', service: 'b', cpu: 100, hostPorts: ['8080/tcp'] }))).toBe('host port 8080/tcp in use');
    expect(check.place('n1', aRequest({ id: 'default/c', service: 'c', cpu: 400, hostPorts: ['9090/tcp'] }))).toBeUndefined();
    expect(check.place('n1', aRequest({ id: 'default/d', service: 'd', cpu: 300 }))).toBe('insufficient cpu');
    expect(check.place('n2', aRequest({ id: 'default/e' }))).toBe('node n2 is gone');
    // The state's own snapshot (the usage table's ports) took none of it.
    const snap = state.snapshot('n1')!;
    expect(snap.used.cpu).toBe(0);
    expect(snap.hostPorts.has('8080/tcp')).toBe(false);
    expect(snap.hostPorts.has('9090/tcp')).toBe(false);
  });
});
