// Docker's view of a container (inspect output) -> the driver's ContainerState. Pure, so the
// mapping of zero times, exit codes and port names is tested without a daemon.
import type Docker from 'dockerode';
import { LABELS, type ContainerState } from '../driver.js';
import { PORTS_LABEL, decodePortsLabel } from './docker-create-options.js';

/** Appended to the name of a container the agent retired (kept dead for its logs until GC). */
export const RETIRED_SUFFIX = '-retired';

/** Docker reports "never" as the zero time of Go. */
function time(t: string | undefined): string | undefined {
  return t && !t.startsWith('0001-01-01') ? t : undefined;
}

/** The address a local client dials for ports bound to `publishAddress`. */
export function dialableHost(publishAddress: string): string {
  if (publishAddress === '0.0.0.0' || publishAddress === '') return '127.0.0.1';
  if (publishAddress === '::') return '::1';
  return publishAddress;
}

/** Whether the container carries this cluster's and node's labels. */
export function ownedBy(labels: Record<string, string> | undefined, clusterId: string, nodeName: string): boolean {
  return labels?.[LABELS.cluster] === clusterId && labels[LABELS.node] === nodeName;
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null | undefined>;

export function hostPortsOf(labels: Record<string, string> | undefined, ports: PortMap | undefined): Record<string, number> {
  const names = decodePortsLabel(labels?.[PORTS_LABEL]);
  const out: Record<string, number> = {};
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const name = names.get(key);
    const hostPort = Number(bindings?.[0]?.HostPort);
    if (name && Number.isInteger(hostPort) && hostPort > 0) out[name] = hostPort;
  }
  return out;
}

export function toContainerState(info: Docker.ContainerInspectInfo, publishAddress: string): ContainerState {
  const labels = info.Config.Labels ?? {};
  const s = info.State;
  const startedAt = time(s.StartedAt);
  const state: ContainerState = {
    id: info.Id,
    instance: {
      namespace: labels[LABELS.namespace] ?? '',
      name: labels[LABELS.instance] ?? '',
      uid: labels[LABELS.instanceUid] ?? '',
    },
    container: labels[LABELS.container] ?? '',
    running: s.Running,
    hostPorts: hostPortsOf(labels, info.NetworkSettings.Ports),
    hostIP: dialableHost(publishAddress),
  };
  if (!s.Running) state.exitCode = s.ExitCode;
  if (s.OOMKilled) state.oomKilled = true;
  if (startedAt) state.startedAt = startedAt;
  const finishedAt = time(s.FinishedAt);
  if (finishedAt && !s.Running) state.finishedAt = finishedAt;
  // Docker keeps FinishedAt from the last exit while the container runs again.
  if (finishedAt && s.Running) state.lastFinishedAt = finishedAt;
  if (s.Running && s.Pid > 0) state.pid = s.Pid;
  if (s.Error) state.error = s.Error;
  if (info.HostConfig?.CpusetCpus) state.cpuset = info.HostConfig.CpusetCpus;
  if ((info.Name as string | undefined)?.endsWith(RETIRED_SUFFIX)) state.retired = true;
  return state;
}
