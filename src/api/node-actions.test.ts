import { afterEach, describe, expect, it } from 'vitest';
import type { GantryNode } from '../core/index.js';
import { startHarness, type Harness } from './test-helpers.js';
import { aNode } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const post = (name: string, action: string, token?: string | null) => h.call({ method: 'POST', url: `/api/v1/nodes/${name}/${action}`, ...(token !== undefined ? { token } : {}) });
const spec = async (name: string) => (await h.store.get('Node', undefined, name))!.spec;

async function withNode(name = 'node-a'): Promise<void> {
  h = await startHarness();
  const res = await h.call({ method: 'PUT', url: `/api/v1/nodes/${name}`, payload: aNode(name) });
  expect(res.statusCode).toBeLessThan(300);
}

describe('node action routes', () => {
  it('cordon sets unschedulable, drain adds draining, uncordon clears both', async () => {
    await withNode();
    const cordon = await post('node-a', 'cordon');
    expect(cordon.statusCode).toBe(200);
    expect(cordon.headers['x-gantry-result']).toBe('configured');
    expect(cordon.json<{ message: string; node: GantryNode }>().message).toBe('node node-a cordoned: no new instances are placed there');
    expect(await spec('node-a')).toMatchObject({ unschedulable: true });
    expect((await spec('node-a')).draining).toBeUndefined();

    expect((await post('node-a', 'drain')).statusCode).toBe(200);
    expect(await spec('node-a')).toMatchObject({ unschedulable: true, draining: true, address: '127.0.0.1' });
    // Cordoning a draining node does not stop the drain.
    expect((await post('node-a', 'cordon')).headers['x-gantry-result']).toBe('unchanged');
    expect((await spec('node-a')).draining).toBe(true);

    const un = await post('node-a', 'uncordon');
    expect(un.json<{ message: string }>().message).toBe('node node-a uncordoned: instances may be placed there again');
    expect(await spec('node-a')).toEqual({ address: '127.0.0.1' });
  });

  it('is idempotent: a repeat changes nothing, says so and records no second event', async () => {
    await withNode();
    await post('node-a', 'drain');
    const revision = (await h.store.get('Node', undefined, 'node-a'))!.metadata.revision;
    const again = await post('node-a', 'drain');
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-gantry-result']).toBe('unchanged');
    expect(again.json<{ message: string }>().message).toBe('node node-a is already draining');
    expect((await h.store.get('Node', undefined, 'node-a'))!.metadata.revision).toBe(revision);
    const events = (await h.store.list('Event')).items;
    expect(events.map((e) => [e.spec.reason, e.spec.involved.name, e.spec.count])).toEqual([['NodeDraining', 'node-a', 1]]);
    expect((await post('node-a', 'uncordon')).statusCode).toBe(200);
    expect((await post('node-a', 'uncordon')).json<{ message: string }>().message).toBe('node node-a is already schedulable');
  });

  it('answers 404 naming the known nodes for an unknown node, and 404 for an unknown action', async () => {
    await withNode();
    const res = await post('node-z', 'drain');
    expect(res.statusCode).toBe(404);
    expect(res.json<{ error: { message: string } }>().error.message).toBe('node "node-z" not found: see gantry get nodes (nodes: node-a)');
    const bad = await post('node-a', 'evacuate');
    expect(bad.statusCode).toBe(404);
    expect(bad.json<{ error: { message: string } }>().error.message).toBe('no node action evacuate: use cordon, uncordon or drain');
  });

  it('needs the admin token; the heartbeat route is still the agent\'s', async () => {
    await withNode();
    const res = await post('node-a', 'cordon', await h.node('node-a'));
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/only an administrator may cordon, uncordon or drain nodes/);
    expect((await post('node-a', 'cordon', null)).statusCode).toBe(401);
    expect((await post('node-a', 'heartbeat', await h.node('node-a'))).statusCode).toBe(204);
  });
});
