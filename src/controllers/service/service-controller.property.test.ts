import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLive, type Service } from '../../core/index.js';
import { ServiceController } from './service-controller.js';
import { aService } from '../../core/test-builders.js';
import { TestClock, aStore, instancesOf, quietLogger, seededRandom, setInstanceStatus } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

type Step =
  | { kind: 'scale'; replicas: number }
  | { kind: 'fail'; index: number; phase: 'Failed' | 'Lost' | 'Succeeded' }
  | { kind: 'ready'; index: number }
  | { kind: 'reconcile' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('scale' as const), replicas: fc.integer({ min: 0, max: 6 }) }),
  fc.record({
    kind: fc.constant('fail' as const),
    index: fc.nat({ max: 10 }),
    phase: fc.constantFrom('Failed' as const, 'Lost' as const, 'Succeeded' as const),
  }),
  fc.record({ kind: fc.constant('ready' as const), index: fc.nat({ max: 10 }) }),
  fc.record({ kind: fc.constant('reconcile' as const) }),
);

describe('ServiceController (property)', () => {
  it('for any replica changes and instance failures, a fixed point has exactly spec.replicas live instances', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 }), fc.array(step, { maxLength: 25 }), async (initial, steps) => {
        const clock = new TestClock();
        const store = aStore(clock);
        try {
          const controller = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(1) });
          await store.create(aService('web', { replicas: initial }));
          let replicas = initial;
          for (const s of steps) {
            const list = (await instancesOf(store)).filter(isLive);
            if (s.kind === 'scale') {
              const svc = (await store.get('Service', 'default', 'web'))!;
              await store.update<Service>({ ...svc, spec: { ...svc.spec, replicas: s.replicas } });
              replicas = s.replicas;
            } else if (s.kind === 'fail' && list.length > 0) {
              await setInstanceStatus(store, list[s.index % list.length]!, { phase: s.phase, ready: false });
            } else if (s.kind === 'ready' && list.length > 0) {
              await setInstanceStatus(store, list[s.index % list.length]!, { phase: 'Running', ready: true });
            } else if (s.kind === 'reconcile') {
              await controller.reconcile('default/web');
            }
            clock.advance(100);
          }
          // Reconcile to a fixed point: a pass that writes nothing and asks for no requeue (a
          // backoff does), with time passing past any backoff between passes.
          let settled = false;
          for (let pass = 0; pass < 30 && !settled; pass++) {
            const before = await store.currentRevision();
            const result = await controller.reconcile('default/web');
            settled = (await store.currentRevision()) === before && result === undefined;
            clock.advance(300_000);
          }
          expect(settled).toBe(true);
          const all = await instancesOf(store);
          expect(all.filter(isLive)).toHaveLength(replicas);
          expect(all.filter((i) => !isLive(i))).toHaveLength(0);
          const status = (await store.get('Service', 'default', 'web'))!.status;
          expect(status?.replicas).toBe(replicas);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
