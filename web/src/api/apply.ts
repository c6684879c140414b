// Plan (PUT ?dryRun=true) and apply (PUT with the revision planned against).
import type { DryRunResult, Manifest } from '../../../src/core/index.js';
import { sendJson } from './http.js';
import { objectPath, type NamespacedPlural } from './paths.js';

export function planApply(plural: NamespacedPlural, m: Manifest): Promise<DryRunResult> {
  return sendJson<DryRunResult>('PUT', `${objectPath(plural, m.metadata.namespace ?? 'default', m.metadata.name)}?dryRun=true`, m);
}

/** Applies exactly what was planned: with the plan's revision a 409 says the object changed since. */
export function applyPlanned(plural: NamespacedPlural, m: Manifest, plan: DryRunResult): Promise<unknown> {
  const metadata = { ...m.metadata, ...(plan.revision > 0 ? { revision: plan.revision } : {}) };
  return sendJson('PUT', objectPath(plural, m.metadata.namespace ?? 'default', m.metadata.name), { ...m, metadata });
}
