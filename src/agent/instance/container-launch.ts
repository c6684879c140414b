// What the driver needs to create one container of an instance: the pod-style network (index 0
// owns it and publishes every port of every container), a fixed hostname and Gantry's env vars.
import { dockerVolumeName, namespaceOf, type ContainerSpec, type Instance } from '../../core/index.js';
import type { ContainerLaunch } from '../../drivers/driver.js';

export interface LaunchContext {
  nodeName: string;
  /** The node address, injected as GANTRY_HOST_IP. */
  hostIP: string;
  /**
   * The instance's host port by port name, picked before the container exists (host-ports.ts):
   * published as is and injected as GANTRY_PORT_<NAME>. A port missing here is left to Docker.
   */
  hostPorts?: Readonly<Record<string, number>> | undefined;
  /** Name servers for the instance (Gantry's DNS as containers reach it), searched in `<ns>.gantry`. */
  dnsServers?: readonly string[] | undefined;
  /** cpuMode cpuset: container name -> the cores the agent pinned for it (`2,3`). */
  cpusets?: Readonly<Record<string, string>> | undefined;
}

/** `GANTRY_PORT_<NAME>`: upper case, anything but letters and digits becomes `_` (`metrics-http` -> `GANTRY_PORT_METRICS_HTTP`). */
function portEnvName(portName: string): string {
  return `GANTRY_PORT_${portName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The container's volumeMounts resolved to Docker sources, and the host namespaces the instance shares. */
function mountsAndHost(instance: Instance, spec: ContainerSpec): Pick<ContainerLaunch, 'mounts' | 'host'> {
  const namespace = namespaceOf(instance);
  const volumes = new Map((instance.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts = (spec.volumeMounts ?? []).flatMap((m) => {
    const v = volumes.get(m.name);
    if (!v) return [];
    return [{ volume: v.hostPath ? v.hostPath.path : dockerVolumeName(namespace, v), path: m.mountPath, readOnly: m.readOnly === true }];
  });
  const { hostNetwork, hostPID, hostIPC } = instance.spec;
  const host = hostNetwork || hostPID || hostIPC ? { network: hostNetwork, pid: hostPID, ipc: hostIPC } : undefined;
  return { ...(mounts.length > 0 ? { mounts } : {}), ...(host ? { host } : {}) };
}

/** An init container: runs alone (no ports, its own network), with the instance's hostname and Gantry's env vars. */
export function buildInitLaunch(instance: Instance, spec: ContainerSpec, ctx: LaunchContext): ContainerLaunch {
  const base = buildLaunch(instance, 0, ctx);
  const { GANTRY_INSTANCE, GANTRY_SERVICE, GANTRY_NAMESPACE, GANTRY_NODE, GANTRY_HOST_IP } = base.env;
  // An init container runs before the main ones: a cpuset one borrows all the instance's cores.
  const cores = Object.values(ctx.cpusets ?? {}).join(',');
  return {
    ...base,
    spec,
    publish: [],
    env: { ...(spec.env ?? {}), GANTRY_INSTANCE, GANTRY_SERVICE, GANTRY_NAMESPACE, GANTRY_NODE, GANTRY_HOST_IP } as Record<string, string>,
    cpuset: spec.resources?.cpuMode === 'cpuset' && cores !== '' ? cores : undefined,
  };
}

export function buildLaunch(instance: Instance, index: number, ctx: LaunchContext, networkOf?: string): ContainerLaunch {
  const spec = instance.spec.containers[index];
  if (!spec) throw new RangeError(`instance ${instance.metadata.name} has no container #${index}`);
  const namespace = namespaceOf(instance);
  const name = instance.metadata.name;
  const publish =
    index === 0
      ? instance.spec.containers.flatMap((c) =>
          (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'tcp', hostPort: p.hostPort ?? ctx.hostPorts?.[p.name] })),
        )
      : [];
  const portEnv: Record<string, string> = {};
  for (const c of instance.spec.containers) {
    for (const p of c.ports ?? []) {
      const hostPort = p.hostPort ?? ctx.hostPorts?.[p.name];
      if (hostPort !== undefined) portEnv[portEnvName(p.name)] = String(hostPort);
    }
  }
  return {
    instance: { namespace, name, uid: instance.metadata.uid },
    spec,
    index,
    networkOf: index === 0 ? undefined : networkOf,
    publish,
    // Gantry's variables come last so a spec cannot spoof them.
    env: {
      ...(spec.env ?? {}),
      GANTRY_INSTANCE: name,
      GANTRY_SERVICE: instance.spec.service,
      GANTRY_NAMESPACE: namespace,
      GANTRY_NODE: ctx.nodeName,
      GANTRY_HOST_IP: ctx.hostIP,
      ...portEnv,
    },
    hostname: name,
    stopSignal: instance.spec.termination?.stopSignal,
    ...(instance.spec.autoUid !== undefined ? { autoUid: instance.spec.autoUid } : {}),
    ...(ctx.cpusets?.[spec.name] !== undefined ? { cpuset: ctx.cpusets[spec.name] } : {}),
    ...mountsAndHost(instance, spec),
    ...(index === 0 && ctx.dnsServers && ctx.dnsServers.length > 0 ? { dns: { servers: [...ctx.dnsServers], search: [`${namespace}.gantry`] } } : {}),
  };
}
