// The workload of the end-to-end scenarios: S services whose replicas sum to M, each replica
// small (100m, 64Mi) so M fits on the hollow nodes, optionally spread across racks and (80% of
// them) constrained to pool=web. Applied concurrently by a few workers, as a CI system would.
import type { GantryClient } from '../../src/client/index.js';
import type { Manifest, ObjectOf } from '../../src/core/index.js';

export type ServiceManifest = Manifest<ObjectOf<'Service'>>;

export interface WorkloadOptions {
  instances: number;
  services: number;
  spread: readonly string[];
  constraints: boolean;
  /** Service names are `<prefix>-0000` ... */
  prefix: string;
}

export const REPLICA_CPU = '100m';
export const REPLICA_MEMORY = '64Mi';
/** One service in five is left unconstrained, as most of a real cluster's services would not be. */
const UNCONSTRAINED_EVERY = 5;

export function workloadServices(o: WorkloadOptions): ServiceManifest[] {
  const base = Math.floor(o.instances / o.services);
  const extra = o.instances % o.services;
  const width = String(Math.max(o.services - 1, 0)).length;
  return Array.from({ length: o.services }, (_, i) => {
    const constrained = o.constraints && i % UNCONSTRAINED_EVERY !== UNCONSTRAINED_EVERY - 1;
    const placement = {
      ...(o.spread.length > 0 ? { spread: [...o.spread] } : {}),
      ...(constrained ? { constraints: ['pool=web'] } : {}),
    };
    return serviceManifest(`${o.prefix}-${String(i).padStart(width, '0')}`, base + (i < extra ? 1 : 0), placement);
  });
}

/** One workload service with a new name and the same spec (churn re-creates services this way). */
export function renamed(svc: ServiceManifest, name: string): ServiceManifest {
  return { ...svc, metadata: { ...svc.metadata, name } };
}

function serviceManifest(name: string, replicas: number, placement: { spread?: string[]; constraints?: string[] }): ServiceManifest {
  return {
    apiVersion: 'gantry/v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels: { 'bench.gantry.io/role': 'workload' } },
    spec: {
      replicas,
      containers: [{ name: 'main', image: 'bench/hollow:1', resources: { cpu: REPLICA_CPU, memory: REPLICA_MEMORY } }],
      ...(Object.keys(placement).length > 0 ? { placement } : {}),
    },
  };
}

/**
 * Runs `op` on every item with at most `concurrency` in flight; resolves when all have. The
 * first failure stops the workers from taking more items and is rethrown.
 */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, signal: AbortSignal, op: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      signal.throwIfAborted();
      const item = items[next++] as T;
      try {
        await op(item);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Applies every service, `concurrency` at a time; `onApplied` runs as each one is accepted. */
export function applyServices(
  client: GantryClient,
  services: readonly ServiceManifest[],
  concurrency: number,
  signal: AbortSignal,
  onApplied: (svc: ServiceManifest) => void = () => undefined,
): Promise<void> {
  return forEachConcurrently(services, concurrency, signal, async (svc) => {
    await client.apply(svc);
    onApplied(svc);
  });
}
