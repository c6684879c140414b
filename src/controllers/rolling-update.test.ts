import { describe, expect, it } from 'vitest';
import { getCondition, type Instance, type InstanceStatus, type Service } from '../core/index.js';
import { newInstanceFor, templateHashOf } from './instance-template.js';
import { rollingStep } from './rolling-update.js';
import { SchedulingController } from './scheduling-controller.js';
import { ServiceController } from './service-controller.js';
import { planService } from './service-plan.js';
import { aNode, aService, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from './test-builders.js';

function stored(o: Parameters<typeof aService>[0] = {}): Service {
  const s = aService(o);
  return { ...s, metadata: { ...s.metadata, uid: 'u1', revision: 1, createdAt: '2025-01-01T00:00:00Z' } };
}

const OLD = stored({ image: 'busybox:1.36' });
const NEW = stored({ image: 'busybox:1.37', replicas: OLD.spec.replicas });
let revision = 10;

function anInstance(service: Service, name: string, node: string | undefined, status: Partial<InstanceStatus>): Instance {
  const i = newInstanceFor(service, name);
  return {
    ...i,
    metadata: { ...i.metadata, uid: name, revision: revision++, createdAt: '2025-01-01T00:00:00Z' },
    spec: { ...i.spec, ...(node ? { node } : {}) },
    status: { phase: 'Pending', ready: false, containers: [], ...status },
  };
}

const running = { phase: 'Running' as const, ready: true };
const unschedulable = { phase: 'Pending' as const, reason: 'Unschedulable', message: '0/1 nodes fit: 1 host port 8080/tcp in use' };

describe('rollingStep', () => {
  it('surges one new instance and waits while it starts', () => {
    const old = anInstance(OLD, 'web-old01', 'n1', running);
    expect(rollingStep([old], 1, templateHashOf(NEW))).toEqual({ create: 1, remove: [] });
    const starting = anInstance(NEW, 'web-new01', 'n1', { phase: 'Pending' });
    expect(rollingStep([old, starting], 1, templateHashOf(NEW))).toEqual({ create: 0, remove: [] });
  });

  it('removes one old instance first when the surge instance cannot be placed (fixed hostPort on one node)', () => {
    const old = anInstance(OLD, 'web-old01', 'n1', running);
    const stuck = anInstance(NEW, 'web-new01', undefined, unschedulable);
    const step = rollingStep([old, stuck], 1, templateHashOf(NEW));
    expect(step.create).toBe(0);
    expect(step.remove.map((i) => i.metadata.name)).toEqual(['web-old01']);
    expect(step.note).toContain('maxUnavailable 1');
  });

  it('never goes more than one ready instance below replicas to make room', () => {
    const hash = templateHashOf(NEW);
    const old1 = anInstance(OLD, 'web-old01', 'n1', running);
    const old2 = anInstance(OLD, 'web-old02', 'n2', running);
    const stuck = anInstance(NEW, 'web-new01', undefined, unschedulable);
    // 2 replicas, both old ready: one may go.
    expect(rollingStep([old1, old2, stuck], 2, hash).remove).toHaveLength(1);
    // After that one went, the surge is still waiting (its reason not yet refreshed): wait.
    expect(rollingStep([old1, stuck], 2, hash)).toEqual({ create: 0, remove: [] });
    // An old instance that is not ready costs no availability: it may go.
    const oldDown = anInstance(OLD, 'web-old03', 'n2', { phase: 'Running', ready: false });
    expect(rollingStep([old1, oldDown, stuck], 2, hash).remove.map((i) => i.metadata.name)).toEqual(['web-old03']);
  });

  it('says so in the Progressing condition', () => {
    const plan = planService(
      { ...NEW, spec: { ...NEW.spec, replicas: 1 } },
      [anInstance(OLD, 'web-old01', 'n1', running), anInstance(NEW, 'web-new01', undefined, unschedulable)],
      templateHashOf(NEW),
      true,
    );
    expect(plan.remove.map((i) => i.metadata.name)).toEqual(['web-old01']);
    expect(plan.progress).toMatchObject({ reason: 'RollingUpdate' });
    expect(plan.progress.message).toBe(
      '1 of 2 instances run an old template; new instance web-new01 cannot be placed (0/1 nodes fit: 1 host port 8080/tcp in use): ' +
        'removing old instance web-old01 first (maxUnavailable 1)',
    );
  });
});

describe('rolling update with a fixed hostPort', () => {
  it('completes on a single node instead of waiting forever for the surge instance', async () => {
    const store = aStore();
    try {
      await store.create(aNode({ name: 'n1' }));
      const base = aService({ replicas: 1 });
      const withPort = (image: string) => [{ ...base.spec.containers[0]!, image, ports: [{ name: 'http', containerPort: 8080, hostPort: 8080 }] }];
      await store.create({ ...base, spec: { ...base.spec, containers: withPort('busybox:1.36') } });
      const services = new ServiceController({ store, logger: quietLogger(), random: seededRandom(4) });
      const scheduler = new SchedulingController({ store, logger: quietLogger(), seed: 1 });
      const round = async () => {
        await services.reconcile('default/web');
        await scheduler.reconcile();
        for (const i of await instancesOf(store)) if (i.spec.node && !i.status?.ready) await setInstanceStatus(store, i, { phase: 'Running', ready: true });
      };
      await round();
      const svc = (await store.get('Service', 'default', 'web'))!;
      await store.update<Service>({ ...svc, spec: { ...svc.spec, containers: withPort('busybox:1.37') } });
      await services.reconcile('default/web'); // surge
      await scheduler.reconcile(); // host port in use: Unschedulable
      await services.reconcile('default/web'); // makes room
      const progressing = getCondition((await store.get('Service', 'default', 'web'))!.status?.conditions, 'Progressing');
      expect(progressing?.message).toContain('maxUnavailable 1');
      for (let n = 0; n < 4; n++) await round();
      const list = await instancesOf(store);
      expect(list).toHaveLength(1);
      expect(list[0]!.spec.containers[0]!.image).toBe('busybox:1.37');
      expect(list[0]!.spec.node).toBe('n1');
    } finally {
      await store.close();
    }
  });
});
