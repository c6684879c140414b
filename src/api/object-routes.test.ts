import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Service } from '../core/index.js';
import { aNamespace, startHarness, type Harness } from './test-helpers.js';
import { aService, anInstance } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const svcUrl = (name: string, ns = 'default'): string => `/api/v1/namespaces/${ns}/services/${name}`;

describe('validation', () => {
  it('answers 422 with every field path and stores nothing', async () => {
    h = await startHarness();
    const bad = aService('web', { replicas: -1, memory: 'lots' }) as unknown as { spec: Record<string, unknown> };
    bad.spec.replicaz = 3;
    const before = await h.store.currentRevision();
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: bad });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe('INVALID');
    const paths = (body.error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['spec.replicaz', 'spec.replicas', 'spec.containers[0].resources.memory']));
    expect(await h.store.currentRevision()).toBe(before);
  });

  it('answers 422 when the body names another object than the URL', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'PUT', url: svcUrl('api'), payload: aService('web') });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].path).toBe('metadata.name');
  });

  it('answers 404 naming the namespace and the fix when it does not exist', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'PUT', url: svcUrl('web', 'team-a'), payload: aService('web', { namespace: 'team-a' }) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toMatch(/namespace "team-a".*gantry apply/);
  });
});

describe('apply', () => {
  it('creates with 201, defaults, generation 1 and an empty status', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-gantry-result']).toBe('created');
    const svc = res.json<Service>();
    expect(svc.metadata.generation).toBe(1);
    expect(svc.status).toEqual({ replicas: 0, readyReplicas: 0, conditions: [] });
    expect(svc.spec.restartPolicy).toBe('Always');
    expect(svc.spec.containers[0]?.resources).toEqual({ cpu: 0.1, memory: '128Mi', cpuMode: 'quota' });
  });

  it('writes nothing when the same manifest is applied again', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    const rev = await h.store.currentRevision();
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-gantry-result']).toBe('unchanged');
    expect(await h.store.currentRevision()).toBe(rev);
  });

  it('configures a changed spec: generation + 1, uid and status kept', async () => {
    h = await startHarness();
    const first = (await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') })).json<Service>();
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web', { image: 'busybox:1.37' }) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-gantry-result']).toBe('configured');
    const svc = res.json<Service>();
    expect(svc.metadata.generation).toBe(2);
    expect(svc.metadata.uid).toBe(first.metadata.uid);
    expect(svc.metadata.createdAt).toBe(first.metadata.createdAt);
    expect(svc.status).toEqual(first.status);
    expect(svc.spec.containers[0]?.image).toBe('busybox:1.37');
  });

  it('configures a label change without a generation bump', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web', { labels: { team: 'a' } }) });
    expect(res.headers['x-gantry-result']).toBe('configured');
    expect(res.json<Service>().metadata.generation).toBe(1);
    expect(res.json<Service>().metadata.labels).toEqual({ team: 'a' });
  });

  it('answers 409 for a stale metadata.revision and keeps the stored object', async () => {
    h = await startHarness();
    const first = (await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') })).json<Service>();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web', { replicas: 5 }) });
    const stale = aService('web', { replicas: 7 });
    stale.metadata.revision = first.metadata.revision;
    const res = await h.call({ method: 'PUT', url: svcUrl('web'), payload: stale });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    expect(res.json().error.message).toMatch(/; read it again and retry, or remove metadata\.revision from the file$/);
    expect((await h.store.get('Service', 'default', 'web'))?.spec.replicas).toBe(5);
  });

  it('accepts a current metadata.revision as a compare-and-swap', async () => {
    h = await startHarness();
    const first = (await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') })).json<Service>();
    const next = aService('web', { replicas: 3 });
    next.metadata.revision = first.metadata.revision;
    expect((await h.call({ method: 'PUT', url: svcUrl('web'), payload: next })).statusCode).toBe(200);
  });

  it('POST creates once and answers 409 the second time', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'POST', url: '/api/v1/namespaces/default/services', payload: aService('web') })).statusCode).toBe(201);
    expect((await h.call({ method: 'POST', url: '/api/v1/namespaces/default/services', payload: aService('web') })).statusCode).toBe(409);
  });
});

describe('scale', () => {
  it('sets replicas and bumps the generation', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    const res = await h.call({ method: 'PUT', url: `${svcUrl('web')}/scale`, payload: { replicas: 5 } });
    expect(res.statusCode).toBe(200);
    const svc = res.json<Service>();
    expect(svc.spec.replicas).toBe(5);
    expect(svc.metadata.generation).toBe(2);
  });

  it('answers 422 with path replicas for a negative count', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    const res = await h.call({ method: 'PUT', url: `${svcUrl('web')}/scale`, payload: { replicas: -2 } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual([{ path: 'replicas', message: 'must be a whole number from 0 to 100000' }]);
  });

  it('answers 404 for a missing service', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'PUT', url: `${svcUrl('nope')}/scale`, payload: { replicas: 1 } })).statusCode).toBe(404);
  });
});

describe('delete', () => {
  it('returns the deleted object and forgets it', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: svcUrl('web'), payload: aService('web') });
    const res = await h.call({ method: 'DELETE', url: svcUrl('web') });
    expect(res.statusCode).toBe(200);
    expect(res.json<Service>().metadata.name).toBe('web');
    expect((await h.call({ method: 'GET', url: svcUrl('web') })).statusCode).toBe(404);
  });

  it('refuses to delete a namespace that holds services, and the default namespace', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/team-a', payload: aNamespace('team-a') });
    await h.call({ method: 'PUT', url: svcUrl('web', 'team-a'), payload: aService('web', { namespace: 'team-a' }) });
    expect((await h.call({ method: 'DELETE', url: '/api/v1/namespaces/team-a' })).statusCode).toBe(409);
    expect((await h.call({ method: 'DELETE', url: '/api/v1/namespaces/default' })).statusCode).toBe(409);
    await h.call({ method: 'DELETE', url: svcUrl('web', 'team-a') });
    expect((await h.call({ method: 'DELETE', url: '/api/v1/namespaces/team-a' })).statusCode).toBe(200);
  });
});

describe('lists', () => {
  async function seed(): Promise<void> {
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/team-a', payload: aNamespace('team-a') });
    await h.store.create(anInstance('web-aaaaa', { service: 'web', node: 'n1' }));
    await h.store.create(anInstance('web-bbbbb', { service: 'web', node: 'n2' }));
    await h.store.create(anInstance('api-ccccc', { service: 'api', node: 'n1' }));
    await h.store.create(anInstance('api-ddddd', { service: 'api' }));
    await h.store.create(anInstance('web-eeeee', { service: 'web', node: 'n1', namespace: 'team-a' }));
  }
  const names = (body: { items: { metadata: { name: string } }[] }): string[] => body.items.map((i) => i.metadata.name).sort();

  it('filters by spec.node and spec.service, ANDed, in one namespace', async () => {
    h = await startHarness();
    await seed();
    const res = await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances?fieldSelector=spec.node=n1,spec.service=web' });
    expect(res.json()).toMatchObject({ apiVersion: 'gantry/v1', kind: 'List', metadata: { revision: await h.store.currentRevision() } });
    expect(names(res.json())).toEqual(['web-aaaaa']);
  });

  it('lists across all namespaces, and selects unbound instances with an empty spec.node', async () => {
    h = await startHarness();
    await seed();
    expect(names((await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=spec.node=n1' })).json())).toEqual(['api-ccccc', 'web-aaaaa', 'web-eeeee']);
    expect(names((await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=spec.node=' })).json())).toEqual(['api-ddddd']);
  });

  it('hands the spec.node term to the store index and checks the rest itself', async () => {
    h = await startHarness();
    await seed();
    const listSpy = vi.spyOn(h.store, 'list');
    const res = await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=spec.service=web,spec.node=n1&labelSelector=gantry.io/service=web' });
    expect(names(res.json())).toEqual(['web-aaaaa', 'web-eeeee']);
    expect(listSpy).toHaveBeenCalledWith('Instance', { namespace: undefined, field: { path: 'spec.node', value: 'n1' } });
  });

  it('pages a list from one snapshot in namespace/name order: no object skipped or repeated while others come and go', async () => {
    h = await startHarness();
    for (let i = 0; i < 7; i++) await h.store.create(anInstance(`web-${String(i).padStart(5, '0')}`, { service: 'web', node: 'n1' }));
    type Page = { metadata: { revision: number; continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] };
    const first = (await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances?limit=3' })).json<Page>();
    expect(first.items.map((i) => i.metadata.name)).toEqual(['web-00000', 'web-00001', 'web-00002']);
    expect(first.metadata.remainingItemCount).toBe(4);
    const revision = first.metadata.revision;
    // Changes after the first page do not move the pages: they come with a watch from its revision.
    await h.store.delete('Instance', 'default', 'web-00004');
    await h.store.create(anInstance('web-00003a', { service: 'web', node: 'n1' }));
    const second = (await h.call({ method: 'GET', url: `/api/v1/namespaces/default/instances?continue=${first.metadata.continue!}` })).json<Page>();
    expect(second.items.map((i) => i.metadata.name)).toEqual(['web-00003', 'web-00004', 'web-00005']);
    expect(second.metadata.revision).toBe(revision);
    const third = (await h.call({ method: 'GET', url: `/api/v1/namespaces/default/instances?continue=${second.metadata.continue!}` })).json<Page>();
    expect(third.items.map((i) => i.metadata.name)).toEqual(['web-00006']);
    expect(third.metadata.continue).toBeUndefined();
    // The last page let the snapshot go: its token is now a 410.
    const again = await h.call({ method: 'GET', url: `/api/v1/namespaces/default/instances?continue=${second.metadata.continue!}` });
    expect(again.statusCode).toBe(410);
    expect(again.json<{ error: { message: string } }>().error.message).toMatch(/list again from the first page/);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances?continue=not-a-token' })).statusCode).toBe(400);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances?limit=0' })).statusCode).toBe(400);
    // A wrong credential gets nothing, pages or not.
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances?limit=3', token: 'gtu_wrong' })).statusCode).toBe(401);
  });

  it('selects instances by status.phase in lists, and refuses it in watches', async () => {
    h = await startHarness();
    await seed();
    await h.store.create(anInstance('web-fffff', { service: 'web', node: 'n2', status: { phase: 'Running', ready: true, containers: [] } }));
    expect(names((await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=status.phase=Running' })).json())).toEqual(['web-fffff']);
    expect(names((await h.call({ method: 'GET', url: '/api/v1/instances?fieldSelector=spec.service=web,status.phase=Pending' })).json())).toEqual(['web-aaaaa', 'web-bbbbb', 'web-eeeee']);
    const watch = await h.call({ method: 'GET', url: '/api/v1/instances?watch=1&fieldSelector=status.phase=Running' });
    expect(watch.statusCode).toBe(400);
    expect(watch.json<{ error: { message: string } }>().error.message).toMatch(/status.phase selects lists only/);
  });

  it('filters by label', async () => {
    h = await startHarness();
    await seed();
    const res = await h.call({ method: 'GET', url: '/api/v1/instances?labelSelector=gantry.io/service=api' });
    expect(names(res.json())).toEqual(['api-ccccc', 'api-ddddd']);
  });
});
