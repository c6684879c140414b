import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_VERSION, isUnboundPending, type GantryNode, type Instance, type InstancePhase } from '../../core/index.js';
import { buildNodeSnapshots, type NodeSnapshot } from '../../scheduler/index.js';
import type { NewObject, Store } from '../../store/store.js';
import { ClusterState } from './cluster-state.js';
import { aNode } from '../../core/test-builders.js';
import { aStore } from '../shared/test-builders.js';
import { nsKey } from '../shared/queue-keys.js';

type Step =
  | { kind: 'addNode'; node: number; cpu: number }
  | { kind: 'deleteNode'; node: number }
  | { kind: 'toggleNode'; node: number }
  | { kind: 'heartbeat'; node: number }
  | { kind: 'relabel'; node: number; rack: number }
  | { kind: 'create'; service: number; node: number | undefined; cpu: number; hostPort: number | undefined }
  | { kind: 'bind'; pick: number; node: number }
  | { kind: 'phase'; pick: number; phase: InstancePhase }
  | { kind: 'delete'; pick: number }
  | { kind: 'unrelated' }
  | { kind: 'catchUp' };

const nodeIndex = fc.nat({ max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('addNode' as const), node: nodeIndex, cpu: fc.integer({ min: 1, max: 8 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('deleteNode' as const), node: nodeIndex }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('toggleNode' as const), node: nodeIndex }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), node: nodeIndex }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('relabel' as const), node: nodeIndex, rack: fc.nat({ max: 2 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      service: fc.nat({ max: 2 }),
      node: fc.option(nodeIndex, { nil: undefined }),
      cpu: fc.integer({ min: 1, max: 2000 }),
      hostPort: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('bind' as const), pick: fc.nat(), node: nodeIndex }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant('phase' as const), pick: fc.nat(), phase: fc.constantFrom<InstancePhase>('Pending', 'Running', 'Failed', 'Succeeded', 'Lost') }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('unrelated' as const) }), weight: 1 },
  // Catching up mid-way caches snapshots, which later changes must drop.
  { arbitrary: fc.record({ kind: fc.constant('catchUp' as const) }), weight: 3 },
);

function instanceOfStep(name: string, s: Extract<Step, { kind: 'create' }>): NewObject<Instance> {
  const service = `s${s.service}`;
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: { name, namespace: 'default' },
    spec: {
      service,
      containers: [{ name: 'main', image: 'x', ...(s.hostPort ? { ports: [{ name: 'p', containerPort: 8080, hostPort: s.hostPort }] } : {}) }],
      restartPolicy: 'Always',
      resources: { cpu: s.cpu, memory: s.cpu * 2 ** 20 },
      templateHash: 'h',
      ...(s.node !== undefined ? { node: `n${s.node}` } : {}),
    },
    status: { phase: 'Pending', ready: false, containers: [] },
  };
}

async function apply(store: Store, s: Step, serial: number): Promise<void> {
  const instances = (await store.list('Instance')).items;
  const pick = (n: number) => instances[n % Math.max(1, instances.length)];
  switch (s.kind) {
    case 'addNode': {
      if (!(await store.get('Node', undefined, `n${s.node}`))) await store.create(aNode(`n${s.node}`, { cpu: s.cpu }));
      return;
    }
    case 'deleteNode': {
      if (await store.get('Node', undefined, `n${s.node}`)) await store.delete('Node', undefined, `n${s.node}`);
      return;
    }
    case 'toggleNode': {
      const node = await store.get('Node', undefined, `n${s.node}`);
      if (node) await store.update<GantryNode>({ ...node, status: { ...node.status!, ready: !node.status!.ready } });
      return;
    }
    case 'heartbeat': {
      // A stamp only: nothing the scheduler reads changes.
      const node = await store.get('Node', undefined, `n${s.node}`);
      if (node) await store.update<GantryNode>({ ...node, status: { ...node.status!, lastHeartbeat: new Date(Date.now() + serial).toISOString() } });
      return;
    }
    case 'relabel': {
      const node = await store.get('Node', undefined, `n${s.node}`);
      if (node) await store.update<GantryNode>({ ...node, metadata: { ...node.metadata, labels: { rack: `r${s.rack}` } } });
      return;
    }
    case 'create':
      await store.create(instanceOfStep(`i${serial}`, s));
      return;
    case 'bind': {
      const inst = pick(s.pick);
      if (inst) await store.update<Instance>({ ...inst, spec: { ...inst.spec, node: `n${s.node}` } });
      return;
    }
    case 'phase': {
      const inst = pick(s.pick);
      if (inst) await store.update<Instance>({ ...inst, status: { ...inst.status!, phase: s.phase } });
      return;
    }
    case 'delete': {
      const inst = pick(s.pick);
      if (inst) await store.delete('Instance', 'default', inst.metadata.name);
      return;
    }
    case 'unrelated':
      await store.create({ apiVersion: API_VERSION, kind: 'Namespace', metadata: { name: `ns${serial}` }, spec: {} });
      return;
    case 'catchUp':
      return;
  }
}

/** A snapshot in plain, comparable form. */
function plain(s: NodeSnapshot): unknown {
  return { ...s, hostPorts: [...s.hostPorts].sort(), serviceCounts: [...s.serviceCounts].sort(([a], [b]) => a.localeCompare(b)) };
}

function byName(list: readonly NodeSnapshot[]): unknown[] {
  return [...list].sort((a, b) => a.name.localeCompare(b.name)).map(plain);
}

describe('ClusterState (property)', () => {
  it('kept current change by change, it equals the cluster rebuilt from scratch', async () => {
    // The state is read after the first few steps, so most of the history reaches it as changes.
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), fc.nat({ max: 4 }), async (steps, readAt) => {
        const store = aStore();
        try {
          let state: ClusterState | undefined;
          for (const [i, s] of steps.entries()) {
            if (i === readAt) state = await ClusterState.read(store);
            await apply(store, s, i);
            // Catching up at random points, then using the snapshots, must not disturb later changes.
            if (s.kind === 'catchUp' && state) {
              state = await state.catchUp(store);
              state.snapshots();
            }
          }
          state = await (state ?? (await ClusterState.read(store))).catchUp(store);

          const nodes = (await store.list('Node')).items;
          const instances = (await store.list('Instance')).items;
          expect(byName(state.snapshots())).toEqual(byName(buildNodeSnapshots(nodes, instances)));
          const fresh = (await ClusterState.read(store)).snapshots();
          expect(byName(state.snapshots())).toEqual(byName(fresh));
          // Kept in place, the list still holds each node once, in the store's order.
          expect(state.snapshots().map((n) => n.name)).toEqual(fresh.map((n) => n.name));
          const pending = instances.filter(isUnboundPending).map((i) => nsKey(i.metadata.namespace, i.metadata.name));
          expect(state.pendingIds().sort()).toEqual(pending.sort());
          expect(state.revision).toBe(await store.currentRevision());
        } finally {
          await store.close();
        }
      }),
      { numRuns: 500 },
    );
  });
});
