// The API's admission step: reads what the decision needs (the namespace, the object stored now,
// the namespace's Services and Jobs when it has a quota) and asks core's `admit`. Called by
// create, apply and scale right before they write, inside their compare-and-swap retry, so the
// decision is made on what is stored at that moment.
//
// A quota decision is only as good as the usage it counted: two applies counted at once could
// both fit and together exceed the quota. So when the namespace has a quota, the write goes in one
// transaction with a compare-and-swap on the Namespace object as it was read for the decision
// (as Kubernetes' quota admission does with the ResourceQuota's status): of two racing writes one
// fails with a conflict, is retried and counted again with the other's result. This holds across
// servers, since it is the store that compares.
import { admit, DEFAULT_NAMESPACE, StaleRevisionError, type AnyObject, type Manifest, type Namespace, type NewObject, type ProfileOptions } from '../core/index.js';
import type { Store } from '../store/store.js';

const WORKLOADS = new Set(['Service', 'Job', 'CronJob']);

/** What an admitted write must be checked against: the quota'd Namespace as counted. */
export interface QuotaGuard {
  namespace: Namespace;
}

/** Admits `manifest` or throws why not; the guard its write takes (writeAdmitted) when a quota counted. */
export async function admitManifest(store: Store, manifest: Manifest, current: AnyObject | undefined, options?: ProfileOptions): Promise<QuotaGuard | undefined> {
  if (!WORKLOADS.has(manifest.kind)) return undefined;
  const ns = manifest.metadata.namespace ?? DEFAULT_NAMESPACE;
  const namespace = await store.get('Namespace', undefined, ns);
  const counted = namespace?.spec.quota !== undefined;
  const [services, jobs] = counted ? await Promise.all([store.list('Service', { namespace: ns }), store.list('Job', { namespace: ns })]) : [undefined, undefined];
  admit({ manifest, namespace, current, services: services?.items ?? [], jobs: jobs?.items ?? [], options });
  return counted && namespace ? { namespace } : undefined;
}

/**
 * Writes an admitted object: as is without a guard; with one, in a transaction that also
 * compare-and-swaps the Namespace as counted (a StaleRevisionError, retried by the caller's
 * retryOnConflict, when another write in the namespace went first).
 */
export async function writeAdmitted<O extends AnyObject>(store: Store, guard: QuotaGuard | undefined, write: { op: 'create'; object: NewObject<O> } | { op: 'update'; object: O }): Promise<O> {
  if (!guard) return write.op === 'create' ? store.create<O>(write.object) : store.update<O>(write.object);
  const results = await store.txn([{ op: 'update', object: guard.namespace }, write]);
  return results[1]?.object as O;
}

/** Whether `e` is a lost race on a quota guard (another write in the namespace went first): always worth a retry. */
export function lostQuotaRace(e: unknown): boolean {
  return e instanceof StaleRevisionError && e.kind === 'Namespace';
}
