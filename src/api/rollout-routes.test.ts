import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../core/index.js';
import { ServiceController } from '../controllers/service/service-controller.js';
import { quietLogger } from '../controllers/shared/test-builders.js';
import { startHarness, type Harness } from './test-helpers.js';
import { aService } from '../core/test-builders.js';
import { EventRecorder } from '../runtime/event-recorder.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const url = (name: string, action = '') => `/api/v1/namespaces/default/services/${name}/rollout${action ? `/${action}` : ''}`;

async function withVersions(): Promise<ServiceController> {
  h = await startHarness();
  const controller = new ServiceController({ events: new EventRecorder(h.store), store: h.store, logger: quietLogger() });
  await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: aService('web', { image: 'busybox:1' }) });
  await controller.reconcile('default/web');
  await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: aService('web', { image: 'busybox:2' }) });
  await controller.reconcile('default/web');
  return controller;
}

const service = async (): Promise<Service> => (await h.store.get('Service', 'default', 'web'))!;

describe('rollout routes', () => {
  it('GET .../rollout gives the status and the history, newest last, the current one marked', async () => {
    await withVersions();
    const res = await h.call({ method: 'GET', url: url('web') });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ history: { version: number; images: string[]; cause: string; current: boolean }[]; status: Service['status'] }>();
    expect(body.history.map((v) => [v.version, v.images, v.cause, v.current])).toEqual([
      [1, ['busybox:1'], 'created', false],
      [2, ['busybox:2'], 'apply', true],
    ]);
    // v1 never completed and never had a ready instance (no agent here): no rollback target.
    expect(body.status?.rollout).toMatchObject({ phase: 'Progressing', version: 2 });
    expect(body.status?.rollout?.fromVersion).toBeUndefined();
  });

  it('pause and resume set spec.paused (a second pause changes nothing)', async () => {
    await withVersions();
    const res = await h.call({ method: 'POST', url: url('web', 'pause'), payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ message: string }>().message).toBe('rollout paused');
    expect((await service()).spec.paused).toBe(true);
    expect((await h.call({ method: 'POST', url: url('web', 'pause'), payload: {} })).headers['x-gantry-result']).toBe('unchanged');
    await h.call({ method: 'POST', url: url('web', 'resume'), payload: {} });
    expect((await service()).spec.paused).toBe(false);
  });

  it('undo writes the previous template back with its cause; --to-version picks one; a version not kept is a 422 naming the kept ones', async () => {
    const controller = await withVersions();
    const res = await h.call({ method: 'POST', url: url('web', 'undo'), payload: {} });
    expect(res.statusCode).toBe(200);
    expect((await service()).spec.containers[0]?.image).toBe('busybox:1');
    await controller.reconcile('default/web');
    const v3 = await h.store.get('ServiceVersion', 'default', 'web-v3');
    expect(v3?.spec).toMatchObject({ version: 3, cause: 'rollout undo to v1' });

    await h.call({ method: 'POST', url: url('web', 'undo'), payload: { toVersion: 2 } });
    expect((await service()).spec.containers[0]?.image).toBe('busybox:2');

    const bad = await h.call({ method: 'POST', url: url('web', 'undo'), payload: { toVersion: 9 } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<{ error: { message: string } }>().error.message).toContain('versions kept: v1, v2, v3');
  });

  it('undo to a template the namespace profile no longer admits is refused with its field path', async () => {
    h = await startHarness();
    const controller = new ServiceController({ events: new EventRecorder(h.store), store: h.store, logger: quietLogger() });
    const ns = (profile: string) => h.call({ method: 'PUT', url: '/api/v1/namespaces/default', payload: { apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name: 'default' }, spec: { profile } } });
    expect((await ns('privileged')).statusCode).toBe(200);
    const put = (spec: Record<string, unknown>, image: string) => h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: aService('web', { image, spec }) });
    expect((await put({ hostNetwork: true }, 'busybox:1')).statusCode).toBe(201);
    await controller.reconcile('default/web');
    expect((await put({}, 'busybox:2')).statusCode).toBe(200);
    await controller.reconcile('default/web');
    expect((await h.store.get('ServiceVersion', 'default', 'web-v1'))?.spec.template.hostNetwork).toBe(true);
    expect((await ns('baseline')).statusCode).toBe(200);
    const res = await h.call({ method: 'POST', url: url('web', 'undo'), payload: {} });
    expect(res.statusCode).toBe(422);
    expect(res.json<{ error: { details: { path: string }[] } }>().error.details.map((d) => d.path)).toEqual(['spec.hostNetwork']);
    expect((await service()).spec.containers[0]?.image).toBe('busybox:2');
  });

  it('promote marks the current rollout promoted; without a rollout in progress it is a 409', async () => {
    await withVersions();
    const res = await h.call({ method: 'POST', url: url('web', 'promote'), payload: {} });
    expect(res.statusCode).toBe(200);
    expect((await service()).status?.rollout?.promoted).toBe(true);
    const s = await service();
    await h.store.update<Service>({ ...s, status: { ...s.status!, rollout: { phase: 'Complete', version: 2 } } });
    expect((await h.call({ method: 'POST', url: url('web', 'promote'), payload: {} })).statusCode).toBe(409);
  });

  it('needs an admin token for actions, names unknown actions, and 404s an unknown service', async () => {
    await withVersions();
    expect((await h.call({ method: 'POST', url: url('web', 'pause'), payload: {}, token: await h.node('n1') })).statusCode).toBe(403);
    const unknown = await h.call({ method: 'POST', url: url('web', 'restart'), payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ error: { message: string } }>().error.message).toContain('use pause, resume, promote or undo');
    expect((await h.call({ method: 'GET', url: url('nope') })).statusCode).toBe(404);
  });
});
