// Admission profiles: the Pod Security Standards (Kubernetes) translated to Gantry's spec. A pure
// function of a workload's pod-level spec and its namespace's profile; the API's admission step
// (api/admission.ts) calls it between validation and storage, and the Docker driver derives its
// CapDrop/CapAdd from `effectiveCapabilities`, so what the profile admits is what runs.
//
//   privileged   everything (the admin's escape hatch, per namespace)
//   baseline     (default) no privileged, no host network/PID/IPC, no hostPath volumes,
//                capabilities added only from BASELINE_CAPABILITIES, no Unconfined seccomp,
//                fixed host ports only inside the allowed range
//   restricted   baseline, and: runAsNonRoot, not uid 0, drop ALL (add back NET_BIND_SERVICE at
//                most), read-only root filesystem, seccomp RuntimeDefault, no privilege escalation
import type { FieldError } from '../errors.js';
import type { AdmissionProfile, ContainerSpec, SecurityContext, VolumeSpec } from '../schema.js';

export const DEFAULT_PROFILE: AdmissionProfile = 'baseline';

/** What Baseline lets a container add (PSS "Capabilities"): Docker's default set without NET_RAW. */
export const BASELINE_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

/** What Restricted lets a container add back after dropping ALL. */
export const RESTRICTED_CAPABILITIES: readonly string[] = ['NET_BIND_SERVICE'];

/** The host ports a fixed `hostPort` may use under baseline and restricted (the agents' default --port-range). */
export const DEFAULT_HOST_PORT_RANGE: readonly [number, number] = [20000, 29999];

/** The pod-level part of a Service, a Job or a CronJob's job template: what a profile judges. */
export interface PodSpecLike {
  containers: readonly ContainerSpec[];
  initContainers?: readonly ContainerSpec[] | undefined;
  volumes?: readonly VolumeSpec[] | undefined;
  hostNetwork?: boolean | undefined;
  hostPID?: boolean | undefined;
  hostIPC?: boolean | undefined;
}

export interface ProfileOptions {
  hostPortRange?: readonly [number, number] | undefined;
}

/**
 * The capabilities a container runs with, as the driver asks Docker for them: CapDrop ALL, then
 * these added. Baseline's set minus `drop` plus `add`; `drop: [ALL]` starts from nothing. NET_RAW
 * is not in the starting set (Baseline does not allow it): a workload that needs it adds it.
 */
export function effectiveCapabilities(sc: SecurityContext | undefined): string[] {
  const drop = new Set(sc?.capabilities?.drop ?? []);
  const add = sc?.capabilities?.add ?? [];
  if (add.includes('ALL')) return ['ALL'];
  const base = drop.has('ALL') ? [] : BASELINE_CAPABILITIES.filter((c) => !drop.has(c));
  return [...new Set([...base, ...add])].sort();
}

function containerErrors(profile: AdmissionProfile, c: ContainerSpec, at: string, opts: ProfileOptions): FieldError[] {
  const out: FieldError[] = [];
  const sc = c.securityContext;
  const scAt = `${at}.securityContext`;
  const no = (field: string, why: string): void => {
    out.push({ path: `${scAt}.${field}`, message: `${why} (profile ${profile})` });
  };
  if (sc?.privileged === true) no('privileged', 'is not allowed');
  if (sc?.seccompProfile?.type === 'Unconfined') no('seccompProfile.type', 'Unconfined is not allowed; use RuntimeDefault');
  const allowed = profile === 'restricted' ? RESTRICTED_CAPABILITIES : BASELINE_CAPABILITIES;
  (sc?.capabilities?.add ?? []).forEach((cap, j) => {
    if (!allowed.includes(cap)) no(`capabilities.add[${j}]`, `${cap} is not allowed; only ${allowed.join(', ')} may be added`);
  });
  const [lo, hi] = opts.hostPortRange ?? DEFAULT_HOST_PORT_RANGE;
  (c.ports ?? []).forEach((p, j) => {
    if (p.hostPort !== undefined && (p.hostPort < lo || p.hostPort > hi)) {
      out.push({ path: `${at}.ports[${j}].hostPort`, message: `${p.hostPort} is outside the allowed host port range ${lo}-${hi}; leave it out for a dynamic one (profile ${profile})` });
    }
  });
  if (profile !== 'restricted') return out;
  if (sc?.runAsNonRoot !== true) no('runAsNonRoot', 'must be true');
  if (sc?.runAsUser === 0) no('runAsUser', 'must not be 0 (root)');
  if (!(sc?.capabilities?.drop ?? []).includes('ALL')) no('capabilities.drop', 'must include ALL');
  if (sc?.readOnlyRootFilesystem !== true) no('readOnlyRootFilesystem', 'must be true');
  if (sc?.seccompProfile?.type !== 'RuntimeDefault') no('seccompProfile.type', 'must be RuntimeDefault');
  if (sc?.allowPrivilegeEscalation === true) no('allowPrivilegeEscalation', 'must be false');
  return out;
}

/**
 * What `profile` refuses in a pod-level spec, each with its field path under `prefix`
 * (`spec`, or `spec.jobTemplate` for a CronJob). Empty: admitted.
 */
export function profileErrors(profile: AdmissionProfile, spec: PodSpecLike, prefix: string, opts: ProfileOptions = {}): FieldError[] {
  if (profile === 'privileged') return [];
  const out: FieldError[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) out.push({ path: `${prefix}.${field}`, message: `the host's namespaces are not allowed (profile ${profile})` });
  }
  (spec.volumes ?? []).forEach((v, i) => {
    if (v.hostPath !== undefined) out.push({ path: `${prefix}.volumes[${i}].hostPath`, message: `host paths are not allowed (profile ${profile}); use a namedVolume` });
  });
  spec.containers.forEach((c, i) => out.push(...containerErrors(profile, c, `${prefix}.containers[${i}]`, opts)));
  (spec.initContainers ?? []).forEach((c, i) => out.push(...containerErrors(profile, c, `${prefix}.initContainers[${i}]`, opts)));
  return out;
}
