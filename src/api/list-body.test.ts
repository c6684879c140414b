import { afterEach, describe, expect, it } from 'vitest';
import type { AnyObject, NewObject } from '../core/index.js';
import { STREAMED_LIST_MIN_ITEMS } from './list-body.js';
import { startHarness, type Harness } from './test-helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const secret = (i: number): NewObject<AnyObject> =>
  ({ apiVersion: 'gantry/v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace: 'default', labels: { half: String(i % 2) } }, spec: { data: { password: `value-${i}` } } }) as unknown as NewObject<AnyObject>;

describe('big lists', () => {
  it('stream the same List a small one answers: every item, the revision, secrets redacted, selectors applied', async () => {
    h = await startHarness();
    const n = STREAMED_LIST_MIN_ITEMS * 2 + 7;
    await h.store.txn(Array.from({ length: n }, (_, i) => ({ op: 'create' as const, object: secret(i) })));
    const revision = await h.store.currentRevision();

    const res = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/secrets' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ apiVersion: string; kind: string; metadata: { revision: number }; items: AnyObject[] }>();
    expect(body).toMatchObject({ kind: 'List', metadata: { revision } });
    expect(body.items.map((s) => s.metadata.name).sort()).toEqual(Array.from({ length: n }, (_, i) => `s-${i}`).sort());
    expect(body.items.every((s) => (s.spec as { data: { password: string } }).data.password.startsWith('<redacted'))).toBe(true);

    // Selectors are applied before streaming: half of them (503) still streams.
    const half = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/secrets?labelSelector=half%3D1' });
    expect(half.json<{ items: AnyObject[] }>().items).toHaveLength(Math.floor(n / 2));
  });
});
