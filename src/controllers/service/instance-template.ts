// How a Service's template becomes a new Instance. Pure: the service controller decides how many,
// this decides what. The template hash names a template version so a changed Service can tell
// which of its instances are stale.
import {
  API_VERSION,
  DEFAULT_TERMINATION,
  parseDuration,
  stableHash,
  sumResources,
  namespaceOf,
  type Instance,
  type InstanceSpec,
  type Service,
  templateOf,
  podFieldsOf,
  withoutLateDefaults,
} from '../../core/index.js';
import type { NewObject } from '../../store/store.js';

export const SERVICE_LABEL = 'gantry.io/service';

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Object names are at most 63 characters; the suffix takes 6. */
const MAX_PREFIX = 57;

/**
 * The hash of the template plus the digest of the Configs/Secrets it references (config-digest.ts).
 * Absent parts drop out of the hash, so a service without init containers, files or references
 * keeps the hash its instances were made with before those existed.
 */
export function templateHashOf(service: Service, configDigest?: string): string {
  const template = templateOf(service);
  const { containers, initContainers } = template;
  return stableHash({
    ...template,
    containers: withoutLateDefaults(containers),
    ...(initContainers ? { initContainers: withoutLateDefaults(initContainers) } : {}),
    configDigest,
  });
}

/** The termination a new instance carries, resolved from the service's (defaults filled). */
function resolvedTermination(service: Service): NonNullable<InstanceSpec['termination']> {
  const t = { ...DEFAULT_TERMINATION, ...service.spec.termination };
  return {
    drainDelaySeconds: (parseDuration(t.drainDelay) ?? 0) / 1000,
    gracePeriodSeconds: (parseDuration(t.gracePeriod) ?? 10_000) / 1000,
    stopSignal: t.stopSignal,
  };
}

/** What the rollout adds to a new instance. */
export interface InstanceExtras {
  version?: number | undefined;
  avoidNodes?: readonly string[] | undefined;
}

/** `<service>-<5 random [a-z0-9]>`; `random` returns [0, 1) like Math.random (seed it in tests). */
export function instanceName(service: string, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(random() * NAME_CHARS.length) % NAME_CHARS.length];
  return `${service.slice(0, MAX_PREFIX)}-${suffix}`;
}

/** `templateHash` saves hashing the template per instance when the caller has it already. */
export function newInstanceFor(service: Service, name: string, templateHash = templateHashOf(service), extras: InstanceExtras = {}): NewObject<Instance> {
  const restartPolicy = service.spec.restartPolicy ?? 'Always';
  return {
    apiVersion: API_VERSION,
    kind: 'Instance',
    metadata: {
      name,
      namespace: namespaceOf(service),
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
      ...(extras.version !== undefined ? { version: extras.version } : {}),
      ...(service.spec.initContainers ? { initContainers: service.spec.initContainers } : {}),
      ...(service.spec.configFiles ? { configFiles: service.spec.configFiles } : {}),
      termination: resolvedTermination(service),
      ...podFieldsOf(service.spec),
      ...(extras.avoidNodes && extras.avoidNodes.length > 0 ? { avoidNodes: [...extras.avoidNodes] } : {}),
    },
    status: { phase: 'Pending', ready: false, containers: [] },
  };
}
