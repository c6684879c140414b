import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../store/store.js';
import { registerErrorHandler } from './error-handler.js';
import { MIN_REVISION_HEADER, REVISION_HEADER, registerReadYourWrites } from './read-your-writes.js';

/** A store whose revision the test moves (the etcd watch of a server that lags). */
function lagging(start: number): { store: Store; set: (r: number) => void } {
  let revision = start;
  return { store: { currentRevision: async () => revision } as unknown as Store, set: (r) => (revision = r) };
}

describe('read your writes across servers', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function appWith(store: Store): Promise<FastifyInstance> {
    const a: FastifyInstance = Fastify();
    app = a;
    registerErrorHandler(a);
    registerReadYourWrites(a, store, { waitMs: 300, pollMs: 5 });
    a.get('/x', async () => ({ ok: true }));
    a.put('/x', async () => ({ ok: true }));
    await a.ready();
    return a;
  }

  it('tells every answer the revision this server has reached', async () => {
    const a = await appWith(lagging(41).store);
    const res = await a.inject({ method: 'GET', url: '/x' });
    expect(res.headers[REVISION_HEADER]).toBe('41');
  });

  it('holds a read until the server reaches the revision the client saw', async () => {
    const l = lagging(10);
    const a = await appWith(l.store);
    setTimeout(() => l.set(12), 50);
    const res = await a.inject({ method: 'GET', url: '/x', headers: { [MIN_REVISION_HEADER]: '12' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers[REVISION_HEADER]).toBe('12');
  });

  it('answers 504 naming both revisions when the server stays behind', async () => {
    const a = await appWith(lagging(10).store);
    const res = await a.inject({ method: 'GET', url: '/x', headers: { [MIN_REVISION_HEADER]: '99' } });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ error: { code: 'TIMEOUT' } });
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/at revision 10, behind revision 99/);
    expect(res.headers[REVISION_HEADER]).toBe('10');
  });

  it('refuses a header that is not a revision, and never holds a write', async () => {
    const a = await appWith(lagging(10).store);
    expect((await a.inject({ method: 'GET', url: '/x', headers: { [MIN_REVISION_HEADER]: '1e9' } })).statusCode).toBe(400);
    expect((await a.inject({ method: 'PUT', url: '/x', headers: { [MIN_REVISION_HEADER]: '99' } })).statusCode).toBe(200);
  });
});
