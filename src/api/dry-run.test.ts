import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DryRunResult } from '../core/index.js';
import { aNode, aService } from '../core/test-builders.js';
import { startHarness, type Harness } from './test-helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.store.create(aNode('node-a', { cpu: 2 }));
  await h.store.create(aNode('node-b', { cpu: 2 }));
});
afterAll(async () => h.close());

const url = (name: string): string => `/api/v1/namespaces/default/services/${name}?dryRun=true`;

describe('apply ?dryRun=true', () => {
  it('plans a new service: created, its spec as added lines, where each replica lands; stores nothing', async () => {
    const before = await h.store.currentRevision();
    const r = await h.call({ method: 'PUT', url: url('web'), payload: aService('web', { replicas: 3, cpu: '500m' }) });
    expect(r.statusCode).toBe(200);
    const plan = r.json<DryRunResult>();
    expect(plan).toMatchObject({ dryRun: true, result: 'created', revision: 0 });
    expect(plan.diff.every((l) => l.op === '+')).toBe(true);
    expect(plan.diff.map((l) => l.line).join('\n')).toContain('replicas: 3');
    expect(plan.placement?.nodes.reduce((n, p) => n + p.count, 0)).toBe(3);
    expect(plan.placement?.summary).toMatch(/^3 to place: \d on node-[ab], \d on node-[ab]$/);
    expect(await h.store.currentRevision()).toBe(before);
    expect(await h.store.get('Service', 'default', 'web')).toBeUndefined();
  });

  it('says which replicas cannot be placed and why', async () => {
    const plan = (await h.call({ method: 'PUT', url: url('big'), payload: aService('big', { replicas: 1, cpu: '3' }) })).json();
    expect(plan.placement.failures).toEqual([{ count: 1, reason: expect.stringMatching(/insufficient cpu/) }]);
    expect(plan.placement.summary).toMatch(/^1 cannot be placed: 0\/2 nodes fit/);
  });

  it('diffs against the stored spec and refuses a plan against a stale revision', async () => {
    const stored = (await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/api', payload: aService('api', { replicas: 1 }) })).json();
    const plan = (await h.call({ method: 'PUT', url: url('api'), payload: aService('api', { replicas: 2 }) })).json();
    expect(plan).toMatchObject({ result: 'configured', revision: stored.metadata.revision });
    expect(plan.diff).toContainEqual({ op: '-', line: '  replicas: 1' });
    expect(plan.diff).toContainEqual({ op: '+', line: '  replicas: 2' });
    const same = (await h.call({ method: 'PUT', url: url('api'), payload: aService('api', { replicas: 1 }) })).json();
    expect(same.result).toBe('unchanged');
    const stale = aService('api', { replicas: 2 });
    stale.metadata.revision = stored.metadata.revision - 1;
    const r = await h.call({ method: 'PUT', url: url('api'), payload: stale });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.message).toMatch(/plan again/);
  });

  it('answers validation errors with field paths, as a real apply does', async () => {
    const bad = aService('web', { memory: 'lots' });
    const r = await h.call({ method: 'PUT', url: url('web'), payload: bad });
    expect(r.statusCode).toBe(422);
    expect(r.json().error.details).toContainEqual(expect.objectContaining({ path: 'spec.containers[0].resources.memory' }));
  });
});
