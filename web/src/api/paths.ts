// API paths (docs/api.md). Names are URL-encoded: they come from the cluster.
const e = encodeURIComponent;

export type NamespacedPlural = 'services' | 'instances' | 'events' | 'serviceversions' | 'jobs' | 'cronjobs' | 'configs' | 'secrets';
export type ClusterPlural = 'nodes' | 'namespaces';

/** The collection of a namespaced kind; namespace '*' (or undefined): across namespaces. */
export function collection(plural: NamespacedPlural | ClusterPlural, namespace?: string): string {
  if (plural === 'nodes' || plural === 'namespaces' || namespace === undefined || namespace === '*') return `/api/v1/${plural}`;
  return `/api/v1/namespaces/${e(namespace)}/${plural}`;
}

export function objectPath(plural: NamespacedPlural | ClusterPlural, namespace: string | undefined, name: string): string {
  return `${collection(plural, namespace)}/${e(name)}`;
}
