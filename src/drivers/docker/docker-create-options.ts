// What Gantry asks of Docker for one container, as plain data: a pure function of the launch and
// the node's settings, so every limit and label can be checked without a daemon.
import type Docker from 'dockerode';
import { procViewBinds } from './proc-views.js';
import { DEFAULT_CPU, DEFAULT_MEMORY, effectiveCapabilities, InvalidError, parseCpu, parseMemory } from '../../core/index.js';
import { LABELS, type ContainerLaunch } from '../driver.js';
import { launchUser } from '../launch-user.js';

/** Port name -> `containerPort/protocol`, kept on the first container so inspect can map host ports back to names after an agent restart. */
export const PORTS_LABEL = 'io.gantry.ports';

export interface CreateContext {
  clusterId: string;
  nodeName: string;
  /** Host address published ports bind to. */
  publishAddress: string;
  pidsLimit: number;
  /** lxcfs proc files to mount over the container's (proc-views.ts); empty: none. */
  procViews?: readonly string[] | undefined;
  /** Makes the Docker name unique, so a recreated container never collides with the old one. */
  nameSuffix: string;
  /** Added to the driver's own labels (tests mark their containers with io.gantry.test=1). */
  extraLabels?: Readonly<Record<string, string>> | undefined;
  /** Told when a setting had to be changed to one Docker accepts (the driver logs it). */
  onWarning?: ((message: string) => void) | undefined;
}

/** Docker's smallest CPU limit, 0.01 CPU (10m); below it (and at 0, "unlimited") it refuses or ignores the limit. */
const MIN_NANO_CPUS = 10_000_000;

export type PublishedPort = ContainerLaunch['publish'][number];

export function containerName(launch: ContainerLaunch, suffix: string): string {
  return `gantry-${launch.instance.namespace}-${launch.instance.name}-${launch.spec.name}-${suffix}`;
}

export function encodePortsLabel(publish: readonly PublishedPort[]): string {
  return publish.map((p) => `${p.name}=${p.containerPort}/${p.protocol}`).join(',');
}

/** Inverse of encodePortsLabel: `containerPort/protocol` -> port name. Malformed entries are skipped. */
export function decodePortsLabel(label: string | undefined): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const entry of (label ?? '').split(',')) {
    const m = /^([^=]+)=([0-9]+\/(?:tcp|udp))$/.exec(entry.trim());
    if (m?.[1] && m[2]) byKey.set(m[2], m[1]);
  }
  return byKey;
}

function limits(launch: ContainerLaunch, onWarning: CreateContext['onWarning']): { memory: number; nanoCpus: number } {
  const where = `spec.containers[${launch.index}].resources`;
  // Limits are always set (DESIGN.md §7): an unset request falls back to the core default.
  const memory = parseMemory(launch.spec.resources?.memory ?? DEFAULT_MEMORY);
  const cpu = parseCpu(launch.spec.resources?.cpu ?? DEFAULT_CPU);
  if (memory === undefined) throw new InvalidError(`container "${launch.spec.name}" has an invalid memory quantity`, [{ path: `${where}.memory`, message: 'must be a quantity like 128Mi' }]);
  if (cpu === undefined) throw new InvalidError(`container "${launch.spec.name}" has an invalid cpu quantity`, [{ path: `${where}.cpu`, message: 'must be a cpu quantity like 0.25 or 250m' }]);
  let nanoCpus = Math.round(cpu * 1_000_000);
  if (nanoCpus < MIN_NANO_CPUS) {
    // The API refuses cpu below 10m; an older object may still carry one. Never run it unlimited.
    onWarning?.(`container "${launch.spec.name}" of instance ${launch.instance.namespace}/${launch.instance.name} asks for ${cpu}m CPU; Docker's minimum is 10m, using 10m`);
    nanoCpus = MIN_NANO_CPUS;
  }
  return { memory, nanoCpus };
}

/** How the cpu request is enforced (resources.cpuMode): a quota, a weight, or cores of its own. */
function cpuSettings(launch: ContainerLaunch, nanoCpus: number): Pick<Docker.HostConfig, 'NanoCpus' | 'CpuShares' | 'CpusetCpus'> {
  const mode = launch.spec.resources?.cpuMode ?? 'quota';
  // Docker's default weight is 1024 for one core; its minimum is 2.
  if (mode === 'shares') return { CpuShares: Math.max(2, Math.round((nanoCpus / 1e9) * 1024)) };
  if (mode === 'cpuset') {
    if (!launch.cpuset) {
      throw new InvalidError(`container "${launch.spec.name}" of instance ${launch.instance.namespace}/${launch.instance.name} has cpuMode cpuset but no cores were pinned for it`, [
        { path: `spec.containers[${launch.index}].resources.cpuMode`, message: 'cpuset needs cores from the agent; none were allocated' },
      ]);
    }
    return { CpusetCpus: launch.cpuset };
  }
  return { NanoCpus: nanoCpus };
}

export function buildCreateOptions(launch: ContainerLaunch, ctx: CreateContext): Docker.ContainerCreateOptions {
  const { instance, spec, index } = launch;
  const first = index === 0;
  if (!first && !launch.networkOf) {
    throw new InvalidError(`container "${spec.name}" of instance ${instance.namespace}/${instance.name} has index ${index} but no networkOf`, [
      { path: 'networkOf', message: 'containers after the first must join the first container\'s network' },
    ]);
  }
  const labels: Record<string, string> = {
    ...ctx.extraLabels,
    ...launch.labels,
    [LABELS.cluster]: ctx.clusterId,
    [LABELS.node]: ctx.nodeName,
    [LABELS.namespace]: instance.namespace,
    [LABELS.instance]: instance.name,
    [LABELS.instanceUid]: instance.uid,
    [LABELS.container]: spec.name,
    [LABELS.index]: String(index),
  };
  if (first && launch.publish.length > 0) labels[PORTS_LABEL] = encodePortsLabel(launch.publish);

  const { memory, nanoCpus } = limits(launch, ctx.onWarning);
  const sc = spec.securityContext;
  const hostConfig: Docker.HostConfig = {
    Init: true,
    Memory: memory,
    // Equal to Memory: no swap beyond the limit, so the limit is what the scheduler counted.
    MemorySwap: memory,
    ...cpuSettings(launch, nanoCpus),
    PidsLimit: launch.spec.resources?.pids ?? ctx.pidsLimit,
    // Only the privileged admission profile lets a spec ask for it.
    Privileged: sc?.privileged === true,
    // Docker's default capabilities are not what runs: every one is dropped and the container
    // gets back what its profile admitted (core/admission/profiles.ts): Baseline's set minus its
    // drop list plus its add list. NET_RAW is never there unless asked for.
    CapDrop: ['ALL'],
    CapAdd: effectiveCapabilities(sc),
    ReadonlyRootfs: sc?.readOnlyRootFilesystem === true,
    // A setuid binary in the image cannot gain privileges the process did not start with, unless
    // the spec says allowPrivilegeEscalation: true.
    SecurityOpt: [...(sc?.allowPrivilegeEscalation === true ? [] : ['no-new-privileges']), ...(sc?.seccompProfile?.type === 'Unconfined' ? ['seccomp=unconfined'] : [])],
    // The agent restarts with backoff and reports every restart; Docker restarting behind its back
    // would hide crashes and fight the agent's own decisions.
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
  };
  const binds = [...(launch.mounts ?? []).map((m) => `${m.volume}:${m.path}${m.readOnly ? ':ro' : ''}`), ...(launch.host?.pid ? [] : procViewBinds(ctx.procViews ?? []))];
  if (binds.length > 0) hostConfig.Binds = binds;
  if (launch.host?.pid) hostConfig.PidMode = 'host';
  if (launch.host?.ipc) hostConfig.IpcMode = 'host';

  const options: Docker.ContainerCreateOptions = {
    name: containerName(launch, ctx.nameSuffix),
    Image: spec.image,
    Labels: labels,
    Env: Object.entries(launch.env)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`),
    HostConfig: hostConfig,
  };
  // `docker stop` (by the agent or by hand) then sends what the service asked for.
  if (launch.stopSignal) options.StopSignal = launch.stopSignal;
  // Kubernetes semantics: command replaces the image's ENTRYPOINT (and Docker then drops the
  // image's CMD too), args replace its CMD.
  if (spec.command && spec.command.length > 0) options.Entrypoint = [...spec.command];
  if (spec.args && spec.args.length > 0) options.Cmd = [...spec.args];
  const user = launchUser(launch);
  if (user !== undefined) options.User = user;

  if (first && launch.host?.network) {
    // The host's network: no hostname, resolv.conf or port bindings of its own (Docker refuses them).
    hostConfig.NetworkMode = 'host';
  } else if (first) {
    options.Hostname = launch.hostname;
    if (launch.dns) {
      hostConfig.Dns = [...launch.dns.servers];
      hostConfig.DnsSearch = [...launch.dns.search];
    }
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of launch.publish) {
      const key = `${p.containerPort}/${p.protocol}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: ctx.publishAddress, HostPort: p.hostPort ? String(p.hostPort) : '' });
    }
    if (launch.publish.length > 0) {
      options.ExposedPorts = exposed;
      hostConfig.PortBindings = bindings;
    }
  } else {
    // Docker rejects a hostname or ports on a container that joins another's network namespace.
    hostConfig.NetworkMode = `container:${launch.networkOf}`;
  }
  return options;
}
