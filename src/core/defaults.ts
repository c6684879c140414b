// Defaults the server applies before it stores an object, so `get -o yaml` shows every value
// that is in force. Pure functions of the manifest.
import { kindInfo, DEFAULT_NAMESPACE } from './kinds.js';
import { parseCpu, parseMemory } from './quantity.js';
import type { ContainerSpec, HealthCheck, Manifest, ServiceSpec } from './schema.js';

export const DEFAULT_CPU = 0.1;
export const DEFAULT_MEMORY = '128Mi';

function healthCheckDefaults(hc: HealthCheck): HealthCheck {
  return {
    ...hc,
    ...(hc.http ? { http: { path: '/', ...hc.http } } : {}),
    interval: hc.interval ?? '10s',
    timeout: hc.timeout ?? '2s',
    retries: hc.retries ?? 3,
    startPeriod: hc.startPeriod ?? '0s',
  };
}

export function containerDefaults(c: ContainerSpec): ContainerSpec {
  return {
    ...c,
    resources: { cpu: c.resources?.cpu ?? DEFAULT_CPU, memory: c.resources?.memory ?? DEFAULT_MEMORY },
    ...(c.ports ? { ports: c.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'tcp' })) } : {}),
    ...(c.healthCheck ? { healthCheck: healthCheckDefaults(c.healthCheck) } : {}),
  };
}

export function serviceSpecDefaults(spec: ServiceSpec): ServiceSpec {
  return {
    ...spec,
    replicas: spec.replicas ?? 1,
    restartPolicy: spec.restartPolicy ?? 'Always',
    containers: spec.containers.map(containerDefaults),
  };
}

/** Returns a copy with defaults applied; the namespace is filled for namespaced kinds. */
export function applyDefaults<M extends Manifest>(m: M): M {
  const info = kindInfo(m.kind);
  const metadata = { ...m.metadata, ...(info.namespaced ? { namespace: m.metadata.namespace ?? DEFAULT_NAMESPACE } : {}) };
  if (m.kind === 'Service') return { ...m, metadata, spec: serviceSpecDefaults(m.spec as ServiceSpec) };
  return { ...m, metadata };
}

/** Summed requests of an instance's containers, in millicores and bytes. */
export function sumResources(containers: readonly ContainerSpec[]): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of containers) {
    cpu += parseCpu(c.resources?.cpu ?? DEFAULT_CPU) ?? 0;
    memory += parseMemory(c.resources?.memory ?? DEFAULT_MEMORY) ?? 0;
  }
  return { cpu, memory };
}
