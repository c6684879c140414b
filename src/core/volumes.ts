// Volumes of an instance (spec.volumes, containers[].volumeMounts): the checks a schema cannot
// express, and the Docker name of a named volume. Whether a host path is allowed at all is the
// admission profile's decision (admission/profiles.ts), not validation's.
import type { FieldError } from './errors.js';
import type { ContainerSpec, VolumeSpec } from './schema.js';

/** Named volumes are per namespace: `gantry-<namespace>-<name>`, so a namespace never mounts another's. */
export function dockerVolumeName(namespace: string, volume: VolumeSpec): string {
  return `gantry-${namespace}-${volume.namedVolume?.name ?? volume.name}`;
}

interface PodVolumes {
  containers: readonly ContainerSpec[];
  initContainers?: readonly ContainerSpec[] | undefined;
  volumes?: readonly VolumeSpec[] | undefined;
}

/** Each volume sets exactly one source, names are unique, and every mount names a declared volume. */
export function volumeErrors(spec: PodVolumes, prefix: string): FieldError[] {
  const out: FieldError[] = [];
  const declared = new Map<string, string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const at = `${prefix}.volumes[${i}]`;
    if (declared.has(v.name)) out.push({ path: `${at}.name`, message: `duplicate volume name "${v.name}" (also at ${declared.get(v.name)})` });
    declared.set(v.name, at);
    if ((v.namedVolume === undefined) === (v.hostPath === undefined)) out.push({ path: at, message: 'must set exactly one of namedVolume or hostPath' });
  });
  const mounts = (list: readonly ContainerSpec[] | undefined, field: string): void => {
    (list ?? []).forEach((c, i) => {
      const paths = new Set<string>();
      (c.volumeMounts ?? []).forEach((m, j) => {
        const at = `${prefix}.${field}[${i}].volumeMounts[${j}]`;
        if (!declared.has(m.name)) out.push({ path: `${at}.name`, message: `names no volume; declare "${m.name}" in ${prefix}.volumes` });
        if (paths.has(m.mountPath)) out.push({ path: `${at}.mountPath`, message: `${m.mountPath} is mounted twice in this container` });
        paths.add(m.mountPath);
      });
    });
  };
  mounts(spec.containers, 'containers');
  mounts(spec.initContainers, 'initContainers');
  return out;
}
