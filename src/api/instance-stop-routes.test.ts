import { afterEach, describe, expect, it } from 'vitest';
import type { Instance } from '../core/index.js';
import { startHarness, type Harness } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const url = (name: string) => `/api/v1/namespaces/default/instances/${name}/stop`;

describe('POST .../instances/:name/stop', () => {
  it('sets spec.stop once (admin only); a second request changes nothing', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-1', { node: 'n1' }));
    expect((await h.call({ method: 'POST', url: url('web-1'), payload: {}, token: await h.node('n1') })).statusCode).toBe(403);

    const res = await h.call({ method: 'POST', url: url('web-1'), payload: { reason: 'maintenance' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-gantry-result']).toBe('configured');
    const stopped = res.json<Instance>();
    expect(stopped.spec.stop?.reason).toBe('maintenance');
    expect(Number.isNaN(Date.parse(stopped.spec.stop?.at ?? ''))).toBe(false);

    const again = await h.call({ method: 'POST', url: url('web-1'), payload: { reason: 'other' } });
    expect(again.headers['x-gantry-result']).toBe('unchanged');
    expect(again.json<Instance>().spec.stop?.reason).toBe('maintenance');
    expect(again.json<Instance>().metadata.revision).toBe(stopped.metadata.revision);
  });

  it('answers 404 for an unknown instance and 422 for a bad reason', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'POST', url: url('nope'), payload: {} })).statusCode).toBe(404);
    await h.store.create(anInstance('web-2'));
    const bad = await h.call({ method: 'POST', url: url('web-2'), payload: { reason: '', extra: 1 } });
    expect(bad.statusCode).toBe(422);
  });
});
