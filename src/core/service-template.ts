// The parts of a Service that its instances are made from: what a ServiceVersion keeps, what the
// template hash covers. Pure, so that the controllers (new instances) and the runtime kit
// (version history the API also writes) read it from one place.
import type { Service, ServiceSpec, ServiceTemplate } from './schema.js';

/** Pod-level fields an instance is made with (volumes, host namespaces); absent ones drop out of the hash. */
export const POD_FIELDS = ['volumes', 'hostNetwork', 'hostPID', 'hostIPC'] as const;

type PodFields = Pick<ServiceSpec, (typeof POD_FIELDS)[number]>;

/** The pod-level fields that are set, and only those (so old templates keep their hash). */
export function podFieldsOf(spec: PodFields): PodFields {
  const out: PodFields = {};
  for (const f of POD_FIELDS) if (spec[f] !== undefined) (out as Record<string, unknown>)[f] = spec[f];
  return out;
}

/** The parts of a Service that its instances are made from (what a ServiceVersion keeps). */
export function templateOf(service: Service): ServiceTemplate {
  const { containers, initContainers, configFiles } = service.spec;
  return {
    containers,
    restartPolicy: service.spec.restartPolicy ?? 'Always',
    ...(initContainers ? { initContainers } : {}),
    ...(configFiles ? { configFiles } : {}),
    ...podFieldsOf(service.spec),
  };
}

/** A Service spec with its template parts replaced by `template` (rollout undo, automatic rollback). */
export function withTemplate(spec: ServiceSpec, template: ServiceTemplate): ServiceSpec {
  const { initContainers: _i, configFiles: _c, volumes: _v, hostNetwork: _n, hostPID: _p, hostIPC: _ipc, ...rest } = spec;
  const { containers, restartPolicy, initContainers, configFiles } = template;
  return { ...rest, containers, restartPolicy, ...(initContainers ? { initContainers } : {}), ...(configFiles ? { configFiles } : {}), ...podFieldsOf(template) };
}
