// The part of `gantry describe namespace NAME` that shows its admission profile and what its
// Services and Jobs use against its quota, counted the way admission counts (core/admission).
import { DEFAULT_PROFILE, formatUsage, namespaceUsage, QUOTA_RESOURCES, quotaLimits, type Job, type Namespace, type Service } from '../core/index.js';
import { formatTable } from './table.js';

export function formatNamespaceUsage(ns: Namespace, services: readonly Service[], jobs: readonly Job[]): string {
  const usage = namespaceUsage(services, jobs);
  const limits = quotaLimits(ns.spec.quota);
  const rows = QUOTA_RESOURCES.map((r) => {
    const limit = limits[r];
    return [r, formatUsage(r, usage[r]), limit === undefined ? '<none>' : formatUsage(r, limit)];
  });
  const table = formatTable(['RESOURCE', 'USED', 'QUOTA'], rows)
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `Admission profile:  ${ns.spec.profile ?? DEFAULT_PROFILE}\nQuota:\n${table}\n`;
}
