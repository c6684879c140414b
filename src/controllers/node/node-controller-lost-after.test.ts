// Per-service lostAfter and the node-return rule: instances on a silent node are marked Lost when
// the silence passes their own service's lostAfter (job runs: the grace period), and a lost node
// coming back gets one event per rule saying what happened to its replaced instances.
import { afterEach, describe, expect, it } from 'vitest';
import { getCondition, type GantryNode, type Instance } from '../../core/index.js';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { anInstance, aNode, aService } from '../../core/test-builders.js';
import { NodeController } from './node-controller.js';
import { KEEP_ORIGINAL_MAX_MS } from './node-return.js';
import { ServiceController } from '../service/service-controller.js';
import { TestClock, aStore, quietLogger, seededRandom } from '../shared/test-builders.js';
import { EventRecorder } from '../../runtime/event-recorder.js';

let store: SqliteStore;
afterEach(async () => {
  await store.close();
});

const GRACE = 15_000;
const RUNNING = { phase: 'Running' as const, ready: true, containers: [] };

async function heartbeat(name: string, clock: TestClock): Promise<void> {
  const node = (await store.get('Node', undefined, name))!;
  await store.update<GantryNode>({ ...node, status: { ...node.status!, ready: true, lastHeartbeat: clock.date().toISOString() } });
}

async function phaseOf(name: string): Promise<string | undefined> {
  return (await store.get('Instance', 'default', name))?.status?.phase;
}

async function setup() {
  const clock = new TestClock();
  store = aStore(clock);
  const t0 = clock.date().toISOString();
  await store.create(aNode('n1', { lastHeartbeat: t0 }));
  await store.create(aNode('n2', { lastHeartbeat: t0 }));
  await store.create(aService('fast', { replicas: 3, spec: { lostAfter: '3s' } }));
  await store.create(aService('slow', { replicas: 3, spec: { lostAfter: '30s' } }));
  await store.create(aService('keep', { replicas: 1, spec: { lostAfter: '3s', onNodeReturn: 'KeepOriginal' } }));
  await store.create(anInstance('fast-1', { service: 'fast', node: 'n1', status: RUNNING }));
  await store.create(anInstance('slow-1', { service: 'slow', node: 'n1', status: RUNNING }));
  await store.create(anInstance('keep-1', { service: 'keep', node: 'n1', status: { ...RUNNING, containers: [{ name: 'main', state: 'running', restartCount: 0, hostPorts: {} }] } }));
  const run = anInstance('batch-1', { service: 'batch', node: 'n1', status: RUNNING });
  await store.create<Instance>({ ...run, spec: { ...run.spec, ownerKind: 'Job' } });
  await store.create(anInstance('fast-2', { service: 'fast', node: 'n2', status: RUNNING }));
  const nodes = new NodeController({ events: new EventRecorder(store), store, logger: quietLogger(), nodeGracePeriodMs: GRACE, now: clock.now });
  /** Advance to `ms` after the start, n2 heartbeating, and check. */
  const at = async (ms: number) => {
    clock.ms = Date.parse(t0) + ms;
    await heartbeat('n2', clock);
    await nodes.check();
  };
  return { clock, nodes, at };
}

const eventsOf = async (reason: string) => (await store.list('Event')).items.filter((e) => e.spec.reason === reason);

describe('NodeController with per-service lostAfter', () => {
  it('marks each instance Lost when the silence passes its own service\'s lostAfter; job runs wait for the grace period', async () => {
    const { at } = await setup();
    await at(3_000);
    expect(await phaseOf('fast-1')).toBe('Running');
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(true);

    await at(3_001);
    expect(await phaseOf('fast-1')).toBe('Lost');
    expect(await phaseOf('keep-1')).toBe('Lost');
    expect(await phaseOf('slow-1')).toBe('Running');
    expect(await phaseOf('batch-1')).toBe('Running');
    expect(await phaseOf('fast-2')).toBe('Running');
    // Nothing new goes to a node whose instances are being replaced.
    const n1 = (await store.get('Node', undefined, 'n1'))!;
    expect(n1.status?.ready).toBe(false);
    expect(getCondition(n1.status?.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'NodeLost' });
    expect((await eventsOf('InstanceLost')).map((e) => e.spec.message)).toEqual([
      expect.stringMatching(/^2 instances lost \(node n1 stopped sending heartbeats at .*\): default\/fast-1, default\/keep-1$/),
    ]);

    await at(GRACE + 1);
    expect(await phaseOf('batch-1')).toBe('Lost');
    expect(await phaseOf('slow-1')).toBe('Running');
    await at(30_000);
    expect(await phaseOf('slow-1')).toBe('Running');
    await at(30_001);
    expect(await phaseOf('slow-1')).toBe('Lost');
    expect(await eventsOf('NodeNotReady')).toHaveLength(1);
    // One event per node and pass that lost instances.
    expect((await eventsOf('InstanceLost')).map((e) => e.spec.message.replace(/ \(.*\)/, ''))).toEqual([
      '2 instances lost: default/fast-1, default/keep-1',
      '1 instance lost: default/batch-1',
      '1 instance lost: default/slow-1',
    ]);
  });

  it('a heartbeat before the lostAfter passes keeps everything running', async () => {
    const { clock, at } = await setup();
    await at(2_500);
    await heartbeat('n1', clock);
    await at(5_000);
    expect(await phaseOf('fast-1')).toBe('Running');
    expect((await store.get('Node', undefined, 'n1'))!.status?.ready).toBe(true);
  });

  it('on return, KeepReplacement keeps the replacement; KeepOriginal revives the kept original and stops its replacement', async () => {
    const { clock, at, nodes } = await setup();
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(7) });
    await at(20_000);
    expect(await phaseOf('fast-1')).toBe('Lost');
    // The service controller replaces keep-1 but keeps its object for the node's return.
    await services.reconcile('default/keep');
    const keep = (await store.list('Instance')).items.filter((i) => i.spec.service === 'keep');
    expect(keep.map((i) => i.metadata.name)).toContain('keep-1');
    const replacement = keep.find((i) => i.metadata.name !== 'keep-1')!;
    expect(replacement).toBeDefined();
    await store.update<Instance>({ ...replacement, spec: { ...replacement.spec, node: 'n2' }, status: RUNNING });
    // keep-1 as the service controller would have made it (same template), so no rollout follows.
    const k1 = (await store.get('Instance', 'default', 'keep-1'))!;
    await store.update<Instance>({ ...k1, spec: { ...k1.spec, templateHash: replacement.spec.templateHash, version: replacement.spec.version } });
    await services.reconcile('default/fast');
    expect(await phaseOf('fast-1')).toBeUndefined(); // KeepReplacement: the original's object is gone

    await heartbeat('n1', clock);
    await nodes.check();
    expect((await eventsOf('NodeReady')).map((e) => e.spec.message)).toEqual(['node n1 is sending heartbeats again']);
    const returned = await eventsOf('NodeReturned');
    expect(returned.map((e) => e.spec.message).sort()).toEqual([
      `node n1 is back; kept the originals of 1 instance lost there and stopped their replacements (onNodeReturn KeepOriginal): default/keep-1 (stopped ${replacement.metadata.name})`,
      'node n1 is back; kept the replacements of 1 instance lost there and stopped the originals (onNodeReturn KeepReplacement): default/fast-1',
    ]);
    const original = (await store.get('Instance', 'default', 'keep-1'))!;
    expect(original.status).toMatchObject({ phase: 'Running', ready: true, reason: 'NodeReturned' });
    expect((await store.get('Instance', 'default', replacement.metadata.name))!.spec.stop?.reason).toBe('original keep-1 is back (onNodeReturn KeepOriginal)');
    // The service controller now sees one live instance, the original, and stops nothing else.
    await services.reconcile('default/keep');
    const live = (await store.list('Instance')).items.filter((i) => i.spec.service === 'keep' && !i.spec.stop);
    expect(live.map((i) => i.metadata.name)).toEqual(['keep-1']);
    // Said once.
    await nodes.check();
    expect(await eventsOf('NodeReturned')).toHaveLength(2);
  });

  it('a KeepOriginal original not back within the hour is given up like any Lost instance', async () => {
    const { clock, at } = await setup();
    const services = new ServiceController({ events: new EventRecorder(store), store, logger: quietLogger(), now: clock.now, random: seededRandom(7) });
    await at(20_000);
    await services.reconcile('default/keep');
    expect(await phaseOf('keep-1')).toBe('Lost');
    clock.advance(KEEP_ORIGINAL_MAX_MS);
    await services.reconcile('default/keep');
    expect(await phaseOf('keep-1')).toBeUndefined();
  });
});
