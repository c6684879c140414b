// The API's admission step: reads what the decision needs (the namespace, the object stored now,
// the namespace's Services and Jobs when it has a quota) and asks core's `admit`. Called by
// create, apply and scale right before they write, inside their compare-and-swap retry, so the
// decision is made on what is stored at that moment.
import { admit, DEFAULT_NAMESPACE, type AnyObject, type Manifest, type ProfileOptions } from '../core/index.js';
import type { Store } from '../store/store.js';

const WORKLOADS = new Set(['Service', 'Job', 'CronJob']);

export async function admitManifest(store: Store, manifest: Manifest, current: AnyObject | undefined, options?: ProfileOptions): Promise<void> {
  if (!WORKLOADS.has(manifest.kind)) return;
  const ns = manifest.metadata.namespace ?? DEFAULT_NAMESPACE;
  const namespace = await store.get('Namespace', undefined, ns);
  const counted = namespace?.spec.quota !== undefined;
  const [services, jobs] = counted ? await Promise.all([store.list('Service', { namespace: ns }), store.list('Job', { namespace: ns })]) : [undefined, undefined];
  admit({ manifest, namespace, current, services: services?.items ?? [], jobs: jobs?.items ?? [], options });
}
