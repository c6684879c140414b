// Quotas per namespace (Namespace spec.quota): what the namespace's Services and unfinished Jobs
// ask for, summed, against the quota. Pure: the API's admission step feeds it the namespace's
// objects, `gantry describe namespace` the same lists, so both count the same way.
import { sumResources } from '../defaults.js';
import { formatCpu, formatMemory, parseCpu, parseMemory } from '../quantity.js';
import type { Job, JobSpec, QuotaSpec, Service, ServiceSpec } from '../schema.js';

export interface QuotaUsage {
  /** Millicores requested (per-instance requests times instances). */
  cpu: number;
  /** Bytes requested. */
  memory: number;
  instances: number;
  services: number;
  /** Load balancer entries (spec.expose) plus fixed host ports. */
  exposedPorts: number;
}

export type QuotaResource = keyof QuotaUsage;
export const QUOTA_RESOURCES: readonly QuotaResource[] = ['cpu', 'memory', 'instances', 'services', 'exposedPorts'];

export const ZERO_USAGE: QuotaUsage = { cpu: 0, memory: 0, instances: 0, services: 0, exposedPorts: 0 };

function fixedHostPorts(spec: Pick<ServiceSpec, 'containers'>): number {
  return spec.containers.reduce((n, c) => n + (c.ports ?? []).filter((p) => p.hostPort !== undefined).length, 0);
}

/** What one Service asks for: its replicas' requests, one service, its exposed ports. */
export function serviceUsage(spec: ServiceSpec): QuotaUsage {
  const per = sumResources(spec.containers);
  const n = spec.replicas ?? 1;
  return { cpu: per.cpu * n, memory: per.memory * n, instances: n, services: 1, exposedPorts: (spec.expose ?? []).length + fixedHostPorts(spec) };
}

/** What one Job asks for while it runs: `parallelism` instances at a time. */
export function jobUsage(spec: JobSpec): QuotaUsage {
  const per = sumResources(spec.containers);
  const n = Math.min(spec.parallelism ?? 1, spec.completions ?? 1);
  return { cpu: per.cpu * n, memory: per.memory * n, instances: n, services: 0, exposedPorts: fixedHostPorts(spec) };
}

export function addUsage(a: QuotaUsage, b: QuotaUsage): QuotaUsage {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, instances: a.instances + b.instances, services: a.services + b.services, exposedPorts: a.exposedPorts + b.exposedPorts };
}

const jobDone = (j: Job): boolean => j.status?.phase === 'Succeeded' || j.status?.phase === 'Failed';

/** The namespace's use: every Service and every Job not yet finished. */
export function namespaceUsage(services: readonly Service[], jobs: readonly Job[]): QuotaUsage {
  let u = ZERO_USAGE;
  for (const s of services) u = addUsage(u, serviceUsage(s.spec));
  for (const j of jobs) if (!jobDone(j)) u = addUsage(u, jobUsage(j.spec));
  return u;
}

/** The quota as numbers (millicores, bytes); undefined where none is set. */
export function quotaLimits(quota: QuotaSpec | undefined): Partial<QuotaUsage> {
  if (!quota) return {};
  const out: Partial<QuotaUsage> = {};
  if (quota.cpu !== undefined) out.cpu = parseCpu(quota.cpu);
  if (quota.memory !== undefined) out.memory = parseMemory(quota.memory);
  if (quota.instances !== undefined) out.instances = quota.instances;
  if (quota.services !== undefined) out.services = quota.services;
  if (quota.exposedPorts !== undefined) out.exposedPorts = quota.exposedPorts;
  return out;
}

/** A usage figure as a user reads it (`1500m` cpu -> `1.5`, bytes -> `256Mi`). */
export function formatUsage(resource: QuotaResource, value: number): string {
  if (resource === 'cpu') return formatCpu(value);
  if (resource === 'memory') return formatMemory(value);
  return String(value);
}

export interface QuotaExcess {
  resource: QuotaResource;
  /** The namespace's use without the object being admitted. */
  used: number;
  /** What the object asks for. */
  asked: number;
  limit: number;
}

/**
 * The quotas an object would exceed: `others` is the namespace's use without it, `ask` what it
 * asks for, `current` what it asks for now (a change). Only a resource the change asks more of is
 * refused, so lowering a quota below use never blocks a scale-down or an unrelated fix.
 */
export function quotaExcesses(quota: QuotaSpec | undefined, others: QuotaUsage, ask: QuotaUsage, current: QuotaUsage = ZERO_USAGE): QuotaExcess[] {
  const limits = quotaLimits(quota);
  const out: QuotaExcess[] = [];
  for (const r of QUOTA_RESOURCES) {
    const limit = limits[r];
    if (limit === undefined || ask[r] <= current[r]) continue;
    if (others[r] + ask[r] > limit) out.push({ resource: r, used: others[r], asked: ask[r], limit });
  }
  return out;
}

/** `quota instances exceeded: 8 used, 5 asked, 10 allowed` */
export function describeExcess(e: QuotaExcess): string {
  const f = (v: number): string => formatUsage(e.resource, v);
  return `quota ${e.resource} exceeded: ${f(e.used)} used, ${f(e.asked)} asked, ${f(e.limit)} allowed`;
}
