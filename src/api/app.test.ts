import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test-helpers.js';
import { EventRecorder } from '../runtime/event-recorder.js';
import { aService } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('authentication and roles', () => {
  it('answers /healthz without a token', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/healthz', token: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('refuses a request without a token with 401 in the error shape', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/services', token: null });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
  });

  it('refuses an unknown token with 401', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/version', token: 'not-a-token' });
    expect(res.statusCode).toBe(401);
  });

  it('forbids an admin to write status (403)', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: aService('web') });
    const res = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web/status', payload: { status: { replicas: 9, readyReplicas: 9, conditions: [] } } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toBe('status is written by Gantry; change spec instead');
    const stored = await h.store.get('Service', 'default', 'web');
    expect(stored?.status?.replicas).toBe(0);
  });

  it('forbids an agent to create a service, and stores nothing', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/services', payload: aService('web'), token: await h.node('n1') });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(await h.store.get('Service', 'default', 'web')).toBeUndefined();
  });

  it('forbids anyone to create instances: Gantry writes them', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/namespaces/default/instances', payload: {} });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/written by Gantry only/);
  });

  it('lets an agent register its own node, and nothing else', async () => {
    h = await startHarness();
    const agent = await h.node('n1');
    const node = { apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec: { address: '10.0.0.1', agentPort: 7071 } };
    expect((await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: node, token: agent })).statusCode).toBe(201);
    expect((await h.call({ method: 'GET', url: '/api/v1/nodes/n1', token: agent })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/services', token: agent })).statusCode).toBe(403);
    expect((await h.call({ method: 'DELETE', url: '/api/v1/nodes/n1', token: agent })).statusCode).toBe(403);
  });
});

describe('errors', () => {
  it('answers a malformed JSON body with 400 MALFORMED', async () => {
    h = await startHarness();
    const res = await h.call({
      method: 'PUT',
      url: '/api/v1/namespaces/default/services/web',
      headers: { 'content-type': 'application/json' },
      payload: '{"apiVersion": "gantry/v1", ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('MALFORMED');
  });

  it('answers an unknown route with 404 NOT_FOUND in the same shape', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/widgets' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers a missing object with 404 naming it', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/services/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain('nope');
  });

  it('rejects an unsupported selector with 400 naming the supported ones', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=status.reason=Lost' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain("spec.node=NAME, spec.service=NAME, status.phase=NAME");
  });
});

describe('server facts', () => {
  it('reports version, api version, revision and cluster id', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'GET', url: '/api/v1/version' });
    expect(res.json()).toEqual({ version: '0.0.0-test', apiVersion: 'gantry/v1', revision: await h.store.currentRevision(), clusterId: 'test-cluster' });
  });

  it('creates the default namespace at start, once', async () => {
    h = await startHarness();
    const ns = await h.store.get('Namespace', undefined, 'default');
    expect(ns).toBeDefined();
    const rev = await h.store.currentRevision();
    const { buildApp } = await import('./app.js');
    const { pino } = await import('pino');
    const again = await buildApp({ events: new EventRecorder(h.store), store: h.store, adminToken: 'a', logger: pino({ level: 'silent' }), version: 'x', clusterId: 'c' });
    await again.close();
    expect(await h.store.currentRevision()).toBe(rev);
  });
});
