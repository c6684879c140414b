// The events controllers leave on a Service: what a user reads in `gantry describe service`.
import { afterEach, describe, expect, it } from 'vitest';
import type { GantryEvent, Service } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { SchedulingController } from '../scheduling/scheduling-controller.js';
import { ServiceController } from './service-controller.js';
import { aNode, aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

function setup(): { services: ServiceController; scheduler: SchedulingController } {
  const clock = new TestClock();
  store = aStore(clock);
  return {
    services: new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(7) }),
    scheduler: new SchedulingController({ events: new EventRecorder(store), store, logger: quietLogger(), seed: 1, now: clock.date }),
  };
}

async function serviceEvents(reason: string, name = 'web'): Promise<GantryEvent[]> {
  return (await store.list('Event', { namespace: 'default' })).items.filter(
    (e) => e.spec.reason === reason && e.spec.involved.kind === 'Service' && e.spec.involved.name === name,
  );
}

async function scale(replicas: number): Promise<void> {
  const s = (await store.get('Service', 'default', 'web'))!;
  await store.update<Service>({ ...s, spec: { ...s.spec, replicas } });
}

describe('controller events', () => {
  it('ScalingUp names the created instances; ScalingDown the deleted ones', async () => {
    const { services } = setup();
    await store.create(aService('web', { replicas: 2 }));
    await services.reconcile('default/web');
    const created = (await instancesOf(store)).map((i) => i.metadata.name);
    const [up] = await serviceEvents('ScalingUp');
    expect(up?.spec).toMatchObject({ type: 'Normal', source: 'service-controller', involved: { namespace: 'default', name: 'web' } });
    expect(up?.spec.message).toMatch(/^created 2 instances \(web-[a-z0-9]{5}, web-[a-z0-9]{5}\)$/);
    for (const n of created) expect(up?.spec.message).toContain(n);

    await services.reconcile('default/web'); // settled: nothing new
    expect(await serviceEvents('ScalingUp')).toHaveLength(1);

    await scale(1);
    await services.reconcile('default/web');
    const [left] = await instancesOf(store);
    const gone = created.find((n) => n !== left!.metadata.name)!;
    const [down] = await serviceEvents('ScalingDown');
    expect(down?.spec.message).toBe(`deleted 1 instance (${gone})`);
  });

  it('Replacing names the failed instance and why it failed', async () => {
    const { services } = setup();
    await store.create(aService('web', { replicas: 1 }));
    await services.reconcile('default/web');
    const [first] = await instancesOf(store);
    await setInstanceStatus(store, first!, { phase: 'Failed', message: 'container "main" exited with code 3' });
    await services.reconcile('default/web');
    const [replacing] = await serviceEvents('Replacing');
    expect(replacing?.spec.type).toBe('Normal');
    expect(replacing?.spec.message).toBe(`replacing failed instance ${first!.metadata.name}: container "main" exited with code 3`);
    expect(await serviceEvents('ScalingUp')).toHaveLength(1); // only the first creation
  });

  it('Scheduled: one event per service per pass, saying where each instance went', async () => {
    const { services, scheduler } = setup();
    await store.create(aNode('n1', { ready: true }));
    await store.create(aService('web', { replicas: 3 }));
    await store.create(aService('api', { replicas: 1 }));
    await services.reconcile('default/web');
    await services.reconcile('default/api');
    await scheduler.reconcile();
    const web = await serviceEvents('Scheduled');
    expect(web).toHaveLength(1);
    const names = (await instancesOf(store)).map((i) => i.metadata.name);
    expect(web[0]!.spec.message.startsWith('placed ')).toBe(true);
    for (const n of names) expect(web[0]!.spec.message).toContain(`${n} on n1`);
    const [api] = await serviceEvents('Scheduled', 'api');
    expect(api?.spec.message).toMatch(/^placed api-[a-z0-9]{5} on n1$/);
    expect(api?.spec.source).toBe('scheduler');
  });

  it('Scheduled truncates a long list', async () => {
    const { services, scheduler } = setup();
    await store.create(aNode('n1', { cpu: 64 }));
    await store.create(aService('web', { replicas: 15, cpu: 0.01 }));
    await services.reconcile('default/web');
    await scheduler.reconcile();
    const [e] = await serviceEvents('Scheduled');
    expect(e?.spec.message).toMatch(/ \.\.\. and 5 more$/);
    expect(e?.spec.message.split(' on n1')).toHaveLength(11);
  });
});
