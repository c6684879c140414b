// The admission decision: between validation (schema, defaults) and storage, one place decides
// whether a workload may be stored in its namespace: the namespace's profile (profiles.ts) and its
// quota (quota.ts). Pure: the API's admission step (api/admission.ts) reads the namespace and its
// objects from the store and calls it; tests call it with plain objects.
import { ForbiddenError, InvalidError } from '../errors.js';
import type { AnyObject, CronJobSpec, Job, JobSpec, Manifest, Namespace, Service, ServiceSpec } from '../schema.js';
import { DEFAULT_PROFILE, profileErrors, type PodSpecLike, type ProfileOptions } from './profiles.js';
import { describeExcess, jobUsage, namespaceUsage, quotaExcesses, serviceUsage, ZERO_USAGE, type QuotaUsage } from './quota.js';

export interface AdmissionInput {
  /** The validated, defaulted object to store. */
  manifest: Manifest;
  /** Its namespace (absent for cluster-scoped kinds, or one not created yet). */
  namespace: Namespace | undefined;
  /** What is stored under its name now, if anything. */
  current?: AnyObject | undefined;
  /** The namespace's Services and Jobs (for quotas); the object itself may be among them. */
  services: readonly Service[];
  jobs: readonly Job[];
  options?: ProfileOptions | undefined;
}

/** The pod-level spec a profile judges, and where it sits in the document. */
function podOf(m: Pick<Manifest, 'kind' | 'spec'>): { pod: PodSpecLike; prefix: string } | undefined {
  if (m.kind === 'Service' || m.kind === 'Job') return { pod: m.spec as ServiceSpec | JobSpec, prefix: 'spec' };
  if (m.kind === 'CronJob') return { pod: (m.spec as CronJobSpec).jobTemplate, prefix: 'spec.jobTemplate' };
  return undefined;
}

function usageOf(o: Pick<AnyObject, 'kind' | 'spec'> | undefined): QuotaUsage {
  if (o?.kind === 'Service') return serviceUsage(o.spec as ServiceSpec);
  if (o?.kind === 'Job') return jobUsage(o.spec as JobSpec);
  return ZERO_USAGE;
}

/**
 * Throws InvalidError (422, field paths) when the namespace's profile refuses the workload, and
 * ForbiddenError (403) naming each quota, its use and the ask when a quota would be exceeded.
 */
export function admit(input: AdmissionInput): void {
  const { manifest: m, namespace } = input;
  const found = podOf(m);
  if (!found) return;
  const profile = namespace?.spec.profile ?? DEFAULT_PROFILE;
  const nsName = m.metadata.namespace ?? 'default';
  const what = `${m.kind.toLowerCase()} "${m.metadata.name}"`;
  const errors = profileErrors(profile, found.pod, found.prefix, input.options);
  if (errors.length > 0) {
    throw new InvalidError(`${what} is not allowed in namespace "${nsName}" (admission profile ${profile}): ${errors.length} problem${errors.length > 1 ? 's' : ''}`, errors);
  }
  const quota = namespace?.spec.quota;
  if (!quota || m.kind === 'CronJob') return;
  const isSelf = (o: AnyObject): boolean => o.kind === m.kind && o.metadata.name === m.metadata.name;
  const others = namespaceUsage(input.services.filter((s) => !isSelf(s)), input.jobs.filter((j) => !isSelf(j)));
  const excesses = quotaExcesses(quota, others, usageOf(m), usageOf(input.current));
  if (excesses.length > 0) throw new ForbiddenError(`${what} would exceed the quota of namespace "${nsName}": ${excesses.map(describeExcess).join('; ')}`);
}
