// Defaults the server applies before it stores an object, so `get -o yaml` shows every value
// that is in force. Pure functions of the manifest.
import { kindInfo, namespaceOf } from './kinds.js';
import { parseCpu, parseMemory } from './quantity.js';
import type { ContainerSpec, CronJobSpec, HealthCheck, JobSpec, Manifest, ServiceSpec, Termination, UpdateStrategy } from './schema.js';

export const DEFAULT_CPU = 0.1;
export const DEFAULT_MEMORY = '128Mi';
/** How often a health check probes until its first success (the agent's health-checker.ts). */
export const DEFAULT_START_INTERVAL = '250ms';

function healthCheckDefaults(hc: HealthCheck): HealthCheck {
  return {
    ...hc,
    ...(hc.http ? { http: { path: '/', ...hc.http } } : {}),
    interval: hc.interval ?? '10s',
    timeout: hc.timeout ?? '2s',
    retries: hc.retries ?? 3,
    startPeriod: hc.startPeriod ?? '0s',
    startInterval: hc.startInterval ?? DEFAULT_START_INTERVAL,
  };
}

function containerDefaults(c: ContainerSpec): ContainerSpec {
  return {
    ...c,
    resources: { ...c.resources, cpu: c.resources?.cpu ?? DEFAULT_CPU, memory: c.resources?.memory ?? DEFAULT_MEMORY, cpuMode: c.resources?.cpuMode ?? 'quota' },
    ...(c.ports ? { ports: c.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'tcp' })) } : {}),
    ...(c.healthCheck ? { healthCheck: healthCheckDefaults(c.healthCheck) } : {}),
  };
}

const DEFAULT_UPDATE: Required<Omit<UpdateStrategy, 'canary'>> = {
  strategy: 'Rolling',
  maxSurge: 1,
  maxUnavailable: 0,
  minReadySeconds: 0,
  progressDeadlineSeconds: 600,
  autoRollback: true,
};

export const DEFAULT_TERMINATION: Required<Termination> = { drainDelay: '2s', gracePeriod: '10s', stopSignal: 'SIGTERM' };

export function serviceSpecDefaults(spec: ServiceSpec): ServiceSpec {
  return {
    ...spec,
    replicas: spec.replicas ?? 1,
    restartPolicy: spec.restartPolicy ?? 'Always',
    containers: spec.containers.map(containerDefaults),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(containerDefaults) } : {}),
    ...(spec.configFiles ? { configFiles: spec.configFiles.map((f) => ({ ...f, mode: f.mode ?? '0644' })) } : {}),
    ...(spec.expose ? { expose: spec.expose.map((e) => ({ ...e, mode: e.mode ?? 'http' })) } : {}),
    update: { ...DEFAULT_UPDATE, ...spec.update },
    historyLimit: spec.historyLimit ?? 10,
    termination: { ...DEFAULT_TERMINATION, ...spec.termination },
    lostAfter: spec.lostAfter ?? '15s',
    onNodeReturn: spec.onNodeReturn ?? 'KeepReplacement',
    rescheduleAfterFailures: spec.rescheduleAfterFailures ?? 5,
  };
}

export function jobSpecDefaults(spec: JobSpec): JobSpec {
  return {
    ...spec,
    containers: spec.containers.map(containerDefaults),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(containerDefaults) } : {}),
    ...(spec.configFiles ? { configFiles: spec.configFiles.map((f) => ({ ...f, mode: f.mode ?? '0644' })) } : {}),
    completions: spec.completions ?? 1,
    parallelism: spec.parallelism ?? 1,
    backoffLimit: spec.backoffLimit ?? 6,
    restartPolicy: spec.restartPolicy ?? 'Never',
    runIn: spec.runIn ?? 'fresh',
  };
}

export function cronJobSpecDefaults(spec: CronJobSpec): CronJobSpec {
  return {
    ...spec,
    concurrencyPolicy: spec.concurrencyPolicy ?? 'Allow',
    successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit ?? 3,
    failedJobsHistoryLimit: spec.failedJobsHistoryLimit ?? 1,
    suspend: spec.suspend ?? false,
    jobTemplate: jobSpecDefaults(spec.jobTemplate),
  };
}

/** Returns a copy with defaults applied; the namespace is filled for namespaced kinds. */
export function applyDefaults<M extends Manifest>(m: M): M {
  const info = kindInfo(m.kind);
  const metadata = { ...m.metadata, ...(info.namespaced ? { namespace: namespaceOf(m) } : {}) };
  if (m.kind === 'Service') return { ...m, metadata, spec: serviceSpecDefaults(m.spec as ServiceSpec) };
  if (m.kind === 'Job') return { ...m, metadata, spec: jobSpecDefaults(m.spec as JobSpec) };
  if (m.kind === 'CronJob') return { ...m, metadata, spec: cronJobSpecDefaults(m.spec as CronJobSpec) };
  return { ...m, metadata };
}

/** Summed requests of an instance's containers, in millicores and bytes; `cores` (only when some) the whole cores cpuset containers pin. */
export function sumResources(containers: readonly ContainerSpec[]): { cpu: number; memory: number; cores?: number } {
  let cpu = 0;
  let memory = 0;
  let cores = 0;
  for (const c of containers) {
    const millicores = parseCpu(c.resources?.cpu ?? DEFAULT_CPU) ?? 0;
    cpu += millicores;
    memory += parseMemory(c.resources?.memory ?? DEFAULT_MEMORY) ?? 0;
    if (c.resources?.cpuMode === 'cpuset') cores += Math.ceil(millicores / 1000);
  }
  return cores > 0 ? { cpu, memory, cores } : { cpu, memory };
}

/**
 * A template as the hash sees it: defaults that were added after templates existed drop out, so
 * storing them (cpuMode quota, a health check's startInterval 250ms) does not change the hash of
 * a template that had none and roll out every service.
 */
export function withoutLateDefaults(containers: readonly ContainerSpec[]): readonly ContainerSpec[] {
  const late = (c: ContainerSpec): boolean => c.resources?.cpuMode === 'quota' || c.healthCheck?.startInterval === DEFAULT_START_INTERVAL;
  if (!containers.some(late)) return containers;
  return containers.map((c) => {
    if (!late(c)) return c;
    let out = c;
    if (out.resources?.cpuMode === 'quota') {
      const { cpuMode: _quota, ...resources } = out.resources;
      out = { ...out, resources };
    }
    if (out.healthCheck?.startInterval === DEFAULT_START_INTERVAL) {
      const { startInterval: _default, ...healthCheck } = out.healthCheck;
      out = { ...out, healthCheck };
    }
    return out;
  });
}
