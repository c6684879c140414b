// How a Service's template becomes a new Instance. Pure: the service controller decides how many,
// this decides what. The template hash names a template version so a changed Service can tell
// which of its instances are stale.
import { API_VERSION, DEFAULT_NAMESPACE, DEFAULT_TERMINATION, parseDuration, stableHash, sumResources, type Instance, type Service } from '../core/index.js';
import type { NewObject } from '../store/store.js';

export const SERVICE_LABEL = 'gantry.io/service';

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Object names are at most 63 characters; the suffix takes 6. */
const MAX_PREFIX = 57;

/** The hash of the parts of a Service that its instances are made from. */
export function templateHashOf(service: Service): string {
  const { initContainers, configFiles } = service.spec;
  // Init containers and config files count only when set, so existing instances keep their hash.
  return stableHash({
    containers: service.spec.containers,
    restartPolicy: service.spec.restartPolicy ?? 'Always',
    ...(initContainers?.length ? { initContainers } : {}),
    ...(configFiles?.length ? { configFiles } : {}),
  });
}

/** `<service>-<5 random [a-z0-9]>`; `random` returns [0, 1) like Math.random (seed it in tests). */
export function instanceName(service: string, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(random() * NAME_CHARS.length) % NAME_CHARS.length];
  return `${service.slice(0, MAX_PREFIX)}-${suffix}`;
}

/** `templateHash` saves hashing the template per instance when the caller has it already. */
export function newInstanceFor(service: Service, name: string, templateHash = templateHashOf(service)): NewObject<Instance> {
  const restartPolicy = service.spec.restartPolicy ?? 'Always';
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: {
      name,
      namespace: service.metadata.namespace ?? DEFAULT_NAMESPACE,
      labels: { [SERVICE_LABEL]: service.metadata.name },
    },
    spec: {
      service: service.metadata.name,
      containers: service.spec.containers,
      restartPolicy,
      ...(service.spec.placement ? { placement: service.spec.placement } : {}),
      ...(service.spec.initContainers?.length ? { initContainers: service.spec.initContainers } : {}),
      ...(service.spec.configFiles?.length ? { configFiles: service.spec.configFiles } : {}),
      resources: sumResources(service.spec.containers),
      templateHash,
      termination: terminationFor(service),
    },
    status: { phase: 'Pending', ready: false, containers: [] },
  };
}

/** The Service's termination (defaults filled in) in the form the agent reads: seconds and a signal. */
export function terminationFor(service: Service): NonNullable<Instance['spec']['termination']> {
  const t = { ...DEFAULT_TERMINATION, ...service.spec.termination };
  const seconds = (d: string | number, fallback: string | number): number => (parseDuration(d) ?? parseDuration(fallback) ?? 0) / 1000;
  return {
    drainDelaySeconds: seconds(t.drainDelay, DEFAULT_TERMINATION.drainDelay),
    gracePeriodSeconds: seconds(t.gracePeriod, DEFAULT_TERMINATION.gracePeriod),
    stopSignal: t.stopSignal,
  };
}
