import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCondition, type Instance, type Service } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { SERVICE_LABEL, templateHashOf } from './instance-template.js';
import { MAX_OPS_PER_TXN, ServiceController } from './service-controller.js';
import { aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

function setup(): { clock: TestClock; controller: ServiceController } {
  const clock = new TestClock();
  store = aStore(clock);
  const controller = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(7) });
  return { clock, controller };
}

async function getService(name = 'web'): Promise<Service> {
  const s = await store.get('Service', 'default', name);
  if (!s) throw new Error(`service ${name} missing`);
  return s;
}

async function scale(replicas: number): Promise<void> {
  const s = await getService();
  await store.update<Service>({ ...s, spec: { ...s.spec, replicas } });
}

const names = (list: readonly Instance[]) => list.map((i) => i.metadata.name).sort();

describe('ServiceController', () => {
  it('creates the missing instances unbound and Pending, in one store txn', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 3 }));
    const txn = vi.spyOn(store, 'txn');
    await controller.reconcile('default/web');
    expect(txn).toHaveBeenCalledTimes(1);
    expect(txn.mock.calls[0]?.[0].filter((op) => op.op === 'create')).toHaveLength(3);
    const list = await instancesOf(store);
    expect(list).toHaveLength(3);
    const service = await getService();
    for (const i of list) {
      expect(i.spec.node).toBeUndefined();
      expect(i.status).toEqual({ phase: 'Pending', ready: false, containers: [] });
      expect(i.metadata.labels?.[SERVICE_LABEL]).toBe('web');
      expect(i.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(i.spec.templateHash).toBe(templateHashOf(service));
      expect(i.spec.resources).toEqual({ cpu: 100, memory: 128 * 2 ** 20 });
    }
  });

  it('settles: once at its replicas, another pass writes nothing', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 2 }));
    await controller.reconcile('default/web');
    await controller.reconcile('default/web'); // Progressing moves from ScalingUp to WaitingForReady
    expect(await instancesOf(store)).toHaveLength(2);
    const rev = await store.currentRevision();
    await controller.reconcile('default/web');
    expect(await store.currentRevision()).toBe(rev);
  });

  it('scales down unbound Pending first, then not-ready, then the newest', async () => {
    const { clock, controller } = setup();
    await store.create(aService('web', { replicas: 1 }));
    await controller.reconcile('default/web');
    const [oldest] = await instancesOf(store);
    clock.advance(1000);
    await scale(4);
    await controller.reconcile('default/web');
    const newer = (await instancesOf(store)).filter((i) => i.metadata.name !== oldest!.metadata.name);
    // oldest and newer[0] ready, newer[1] bound but not ready, newer[2] still unbound.
    const bind = async (i: Instance, ready: boolean) => {
      const cur = (await store.get('Instance', 'default', i.metadata.name))!;
      const bound = await store.update<Instance>({ ...cur, spec: { ...cur.spec, node: 'n1' } });
      await setInstanceStatus(store, bound, { phase: 'Running', ready, node: 'n1' });
    };
    await bind(oldest!, true);
    await bind(newer[0]!, true);
    await bind(newer[1]!, false);

    await scale(2);
    await controller.reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual(names([oldest!, newer[0]!]));

    // Both remaining are ready; the newer one goes.
    await scale(1);
    await controller.reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual([oldest!.metadata.name]);
  });

  it('replaces a Failed instance, and backs off when the replacement fails too', async () => {
    const { clock, controller } = setup();
    await store.create(aService('web', { replicas: 1 }));
    await controller.reconcile('default/web');
    const [first] = await instancesOf(store);
    await setInstanceStatus(store, first!, { phase: 'Failed', message: 'exit code 1' });

    await controller.reconcile('default/web');
    const [second] = await instancesOf(store);
    expect(second!.metadata.name).not.toBe(first!.metadata.name);
    expect(second!.status?.phase).toBe('Pending');

    // The replacement crashes at once: no new instance until the backoff has passed.
    await setInstanceStatus(store, second!, { phase: 'Failed', message: 'exit code 1' });
    const result = await controller.reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual([second!.metadata.name]);
    expect(result).toEqual({ requeueAfterMs: 1000 });
    const progressing = getCondition((await getService()).status?.conditions, 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'BackOff' });
    expect(progressing?.message).toContain('exit code 1');

    clock.advance(1000);
    await controller.reconcile('default/web');
    const [third] = await instancesOf(store);
    expect(third!.metadata.name).not.toBe(second!.metadata.name);

    // Third failure in a row: the wait doubles.
    await setInstanceStatus(store, third!, { phase: 'Failed' });
    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 2000 });
    clock.advance(1999);
    await controller.reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual([third!.metadata.name]);
  });

  it('replaces Lost instances at once, one node after another, without a backoff', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 3 }));
    await controller.reconcile('default/web');
    const [a, b] = await instancesOf(store);
    // Nodes die a second apart (the node controller marks each at its own deadline); no clock moves.
    await setInstanceStatus(store, a!, { phase: 'Lost', message: 'node n1 stopped heartbeating' });
    await controller.reconcile('default/web');
    await setInstanceStatus(store, b!, { phase: 'Lost', message: 'node n2 stopped heartbeating' });
    await controller.reconcile('default/web');
    const live = await instancesOf(store);
    expect(live).toHaveLength(3);
    expect(live.map((i) => i.metadata.name)).not.toContain(b!.metadata.name);
    expect(live.every((i) => i.status?.phase === 'Pending')).toBe(true);
    expect(getCondition((await getService()).status?.conditions, 'Progressing')?.reason).not.toBe('BackOff');
  });

  it('replaces a Lost instance during a crash backoff, and the backoff does not count it', async () => {
    const { clock, controller } = setup();
    await store.create(aService('web', { replicas: 2 }));
    await controller.reconcile('default/web');
    const [crashing, steady] = await instancesOf(store);
    await setInstanceStatus(store, crashing!, { phase: 'Failed', message: 'exit code 1' });
    await controller.reconcile('default/web'); // first replacement: at once, backoff 1 s from here
    const again = (await instancesOf(store)).find((i) => i.metadata.name !== steady!.metadata.name)!;
    await setInstanceStatus(store, again, { phase: 'Failed', message: 'exit code 1' });
    await setInstanceStatus(store, steady!, { phase: 'Lost', message: 'node n2 stopped heartbeating' });

    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 1000 });
    const during = await instancesOf(store);
    // The Failed one waits for the backoff; the Lost one's replacement is there already.
    expect(names(during.filter((i) => i.status?.phase !== 'Pending'))).toEqual([again.metadata.name]);
    expect(during.filter((i) => i.status?.phase === 'Pending')).toHaveLength(1);
    expect(during.map((i) => i.metadata.name)).not.toContain(steady!.metadata.name);

    // Its second failure doubles the wait to 2 s; the Lost replacement did not make it 4 s.
    clock.advance(1000);
    await controller.reconcile('default/web');
    const third = (await instancesOf(store)).find((i) => i.metadata.name !== again.metadata.name && !during.some((d) => d.metadata.name === i.metadata.name))!;
    await setInstanceStatus(store, third, { phase: 'Failed' });
    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 2000 });
  });

  it('counts no Failed replacement in a capped pass whose creates all went to Lost instances', async () => {
    const { controller } = setup();
    const replicas = MAX_OPS_PER_TXN + 10;
    await store.create(aService('web', { replicas }));
    await controller.reconcile('default/web');
    await controller.reconcile('default/web');
    const all = await instancesOf(store);
    expect(all).toHaveLength(replicas);
    const [failed, ...rest] = all;
    await setInstanceStatus(store, failed!, { phase: 'Failed', message: 'exit code 1' });
    for (const i of rest.slice(0, MAX_OPS_PER_TXN + 5)) await setInstanceStatus(store, i, { phase: 'Lost' });

    await controller.reconcile('default/web'); // capped: every create replaces a Lost instance
    await controller.reconcile('default/web'); // the rest, the Failed one included: no backoff was due
    const names = (await instancesOf(store)).map((i) => i.metadata.name);
    expect(names).toHaveLength(replicas);
    expect(names).not.toContain(failed!.metadata.name);
    expect(getCondition((await getService()).status?.conditions, 'Progressing')?.reason).not.toBe('BackOff');
  });

  it('deletes every instance of a deleted service', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 3 }));
    await store.create(aService('other', { replicas: 1 }));
    await controller.reconcile('default/web');
    await controller.reconcile('default/other');
    await store.delete('Service', 'default', 'web');
    await controller.reconcile('default/web');
    expect(await instancesOf(store)).toHaveLength(0);
    expect(await instancesOf(store, 'other')).toHaveLength(1);
  });

  it('writes replicas, readyReplicas, observedGeneration and conditions, only when they change', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 3, generation: 1 }));
    await controller.reconcile('default/web');
    let status = (await getService()).status;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 0, observedGeneration: 1 });
    expect(getCondition(status?.conditions, 'Available')?.status).toBe('False');

    const list = await instancesOf(store);
    for (const i of list) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
    await controller.reconcile('default/web');
    status = (await getService()).status;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3 });
    expect(getCondition(status?.conditions, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(getCondition(status?.conditions, 'Progressing')).toMatchObject({ status: 'True', reason: 'Complete' });

    const rev = (await getService()).metadata.revision;
    await controller.reconcile('default/web');
    expect((await getService()).metadata.revision).toBe(rev);
  });

  it('reports Unschedulable when an instance cannot be placed', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 1 }));
    await controller.reconcile('default/web');
    const [i] = await instancesOf(store);
    await setInstanceStatus(store, i!, { reason: 'Unschedulable', message: '0/1 nodes fit: 1 insufficient memory' });
    await controller.reconcile('default/web');
    const cond = getCondition((await getService()).status?.conditions, 'Unschedulable');
    expect(cond?.status).toBe('True');
    expect(cond?.message).toContain('insufficient memory');
  });

  it('rolls a changed template one instance at a time, removing an old one only when a new one is ready', async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 2 }));
    await controller.reconcile('default/web');
    for (const i of await instancesOf(store)) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
    const old = names(await instancesOf(store));
    const s = await getService();
    await store.update<Service>({ ...s, spec: { ...s.spec, containers: [{ ...s.spec.containers[0]!, image: 'busybox:1.37' }] } });
    const hash = templateHashOf(await getService());

    await controller.reconcile('default/web');
    let list = await instancesOf(store);
    expect(list).toHaveLength(3);
    const fresh = list.filter((i) => i.spec.templateHash === hash);
    expect(fresh).toHaveLength(1);

    await controller.reconcile('default/web'); // new one not ready: wait
    expect(await instancesOf(store)).toHaveLength(3);

    await setInstanceStatus(store, fresh[0]!, { phase: 'Running', ready: true });
    await controller.reconcile('default/web');
    list = await instancesOf(store);
    expect(list).toHaveLength(2);
    expect(list.filter((i) => old.includes(i.metadata.name))).toHaveLength(1);

    await controller.reconcile('default/web');
    for (const i of await instancesOf(store)) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
    await controller.reconcile('default/web');
    list = await instancesOf(store);
    expect(list).toHaveLength(2);
    expect(list.every((i) => i.spec.templateHash === hash)).toBe(true);
  });

  it('never reuses a name: draws again on a name in use or already drawn in the same batch', async () => {
    setup();
    await store.create(aService('web', { replicas: 1 }));
    await new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: drawing('aaaaa') }).reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual(['web-aaaaa']);
    await scale(3);
    const withRepeats = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), random: drawing('aaaaa', 'bbbbb', 'bbbbb', 'ccccc') });
    await withRepeats.reconcile('default/web');
    expect(names(await instancesOf(store))).toEqual(['web-aaaaa', 'web-bbbbb', 'web-ccccc']);
  });

  it(`creates and deletes at most ${MAX_OPS_PER_TXN} instances per txn and requeues for the rest`, async () => {
    const { controller } = setup();
    await store.create(aService('web', { replicas: 2500 }));
    const txn = vi.spyOn(store, 'txn');
    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 0 });
    expect(await instancesOf(store)).toHaveLength(MAX_OPS_PER_TXN);
    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 0 });
    // Done with creating: the only wake-up left is the progress deadline of v1's rollout (600 s).
    expect(await controller.reconcile('default/web')).toEqual({ requeueAfterMs: 600_000 });
    expect(await instancesOf(store)).toHaveLength(2500);
    expect(txn.mock.calls.map((c) => c[0].length)).toEqual([1000, 1000, 500]);

    txn.mockClear();
    await scale(0);
    for (let pass = 0; pass < 3; pass++) await controller.reconcile('default/web');
    expect(await instancesOf(store)).toHaveLength(0);
    expect(txn.mock.calls.map((c) => c[0].length)).toEqual([1000, 1000, 500]);
  }, 20_000);

  it('reads only its own instances, through the store\'s spec.service index, never the whole namespace', async () => {
    const clock = new TestClock();
    store = aStore(clock);
    const controller = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(7) });
    await store.create(aService('web', { replicas: 3 }));
    await store.create(aService('other', { replicas: 2 }));
    await store.create(aService('web', { namespace: 'team-b', replicas: 1 }));
    const list = vi.spyOn(store, 'list');
    await controller.reconcile('default/web');
    await controller.reconcile('default/other');
    await controller.reconcile('team-b/web');
    const instanceLists = list.mock.calls.filter(([kind]) => kind === 'Instance');
    expect(instanceLists.length).toBeGreaterThan(0);
    for (const [, opts] of instanceLists) expect(opts?.field?.path).toBe('spec.service');

    // The store is the truth: a deleted instance is replaced, a status written meanwhile is seen,
    // and a service of the same name in another namespace is not counted.
    const [first, second] = await instancesOf(store);
    await store.delete('Instance', 'default', first!.metadata.name);
    await setInstanceStatus(store, second!, { phase: 'Failed', message: 'exit code 1' });
    await controller.reconcile('default/web');
    const after = await instancesOf(store);
    expect(after).toHaveLength(3);
    expect(names(after)).not.toContain(first!.metadata.name);
    expect(names(after)).not.toContain(second!.metadata.name);
    expect(await instancesOf(store, 'other')).toHaveLength(2);
    expect(await instancesOf(store, 'web', 'team-b')).toHaveLength(1);
  });
});

/** A random source that makes instanceName() return the given suffixes, in turn. */
function drawing(...suffixes: string[]): () => number {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const values = suffixes.flatMap((s) => [...s].map((c) => (chars.indexOf(c) + 0.5) / chars.length));
  let n = 0;
  return () => {
    const v = values[n++ % values.length];
    if (v === undefined) throw new Error('drawing() needs at least one suffix');
    return v;
  };
}
