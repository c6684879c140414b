import { afterEach, describe, expect, it } from 'vitest';
import type { GantryNode, Instance, InstanceStatus } from '../core/index.js';
import { aStore, quietLogger } from '../controllers/shared/test-builders.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { Catalog } from './catalog.js';
import type { EndpointSet } from './endpoint.js';
import { aNode, anInstance } from '../core/test-builders.js';

const running = (hostPort: number, ready = true): InstanceStatus => ({
  phase: 'Running',
  ready,
  hostIP: '127.0.0.1',
  containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts: { http: hostPort } }],
});

function withPorts(i: ReturnType<typeof anInstance>): ReturnType<typeof anInstance> {
  return { ...i, spec: { ...i.spec, containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }] } };
}

describe('Catalog', () => {
  let store: SqliteStore;
  let stop = new AbortController();
  afterEach(async () => {
    stop.abort();
    await store.close();
  });

  async function started(): Promise<{ catalog: Catalog; changes: EndpointSet[] }> {
    store = aStore();
    stop = new AbortController();
    const catalog = new Catalog({ store, logger: quietLogger() });
    const changes: EndpointSet[] = [];
    catalog.onChange((s) => changes.push(s));
    void catalog.run(stop.signal);
    await catalog.synced;
    return { catalog, changes };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  }

  it('lists only ready, running instances that are not being stopped, one endpoint per named port', async () => {
    const { catalog } = await started();
    await store.create<GantryNode>(aNode('n1'));
    await store.create<Instance>(withPorts(anInstance('web-1', { node: 'n1', status: running(31001) })));
    await store.create<Instance>(withPorts(anInstance('web-2', { node: 'n1', status: running(31002, false) })));
    const stopping = withPorts(anInstance('web-3', { node: 'n1', status: running(31003) }));
    await store.create<Instance>({ ...stopping, spec: { ...stopping.spec, stop: { at: new Date().toISOString(), reason: 'ScaleDown' } } });
    await until(() => catalog.revision >= 4);
    const set = catalog.get('default', 'web');
    expect(set.endpoints.map((e) => [e.instance, e.port, e.address, e.hostPort, e.containerPort])).toEqual([['web-1', 'http', '127.0.0.1', 31001, 80]]);
  });

  it('drops an endpoint the moment its instance turns not ready, and tells listeners', async () => {
    const { catalog, changes } = await started();
    await store.create<GantryNode>(aNode('n1'));
    const inst = await store.create<Instance>(withPorts(anInstance('web-1', { node: 'n1', status: running(31001) })));
    await until(() => catalog.get('default', 'web').endpoints.length === 1);
    await store.update<Instance>({ ...inst, status: running(31001, false) });
    await until(() => catalog.get('default', 'web').endpoints.length === 0);
    expect(changes.map((c) => c.endpoints.length)).toEqual([1, 0]);
  });

  it('drops every endpoint of a node that turns not ready and brings them back when it returns', async () => {
    const { catalog } = await started();
    const node = await store.create<GantryNode>({ ...aNode('n1'), status: { ready: true, capacity: { cpu: 1000, memory: 2 ** 30 }, driver: 'fake', conditions: [] } });
    await store.create<Instance>(withPorts(anInstance('web-1', { node: 'n1', status: running(31001) })));
    await until(() => catalog.get('default', 'web').endpoints.length === 1);
    const down = await store.update<GantryNode>({ ...node, status: { ...node.status!, ready: false } });
    await until(() => catalog.get('default', 'web').endpoints.length === 0);
    await store.update<GantryNode>({ ...down, status: { ...down.status!, ready: true } });
    await until(() => catalog.get('default', 'web').endpoints.length === 1);
  });

  it('ignores instances of jobs and forgets deleted instances', async () => {
    const { catalog } = await started();
    await store.create<GantryNode>(aNode('n1'));
    const job = withPorts(anInstance('batch-1', { service: 'batch', node: 'n1', status: running(31005) }));
    await store.create<Instance>({ ...job, spec: { ...job.spec, ownerKind: 'Job' } });
    await store.create<Instance>(withPorts(anInstance('web-1', { node: 'n1', status: running(31001) })));
    await until(() => catalog.get('default', 'web').endpoints.length === 1);
    expect(catalog.get('default', 'batch').endpoints).toEqual([]);
    await store.delete('Instance', 'default', 'web-1');
    await until(() => catalog.get('default', 'web').endpoints.length === 0);
    expect(catalog.list('default').map((s) => s.service)).toEqual(['web']);
  });
});
