// The Driver over a real dockerd (dockerode). Containers are found only by this cluster's and
// node's labels, so two agents sharing one dockerd never touch each other's containers.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { ConflictError, ImageNotFoundError, InvalidError, NotFoundError, PortConflictError, UnavailableError, type ContainerSpec, type HealthCheck } from '../../core/index.js';
import {
  LABELS,
  type ContainerLaunch,
  type ContainerState,
  type ContainerUsage,
  type Driver,
  type DriverEvent,
  type ExecProcess,
  type ExecResult,
  type ExecSessionOptions,
  type FileToCopy,
  type Fingerprint,
  type InstanceRef,
  type LogOptions,
  type ProbeResult,
} from '../driver.js';
import { buildCreateOptions } from './docker-create-options.js';
import { dockerReason, dockerStatus } from './docker-errors.js';
import { streamEvents } from './docker-events.js';
import { GhostCheck } from './docker-ghost.js';
import { runExec } from './docker-exec.js';
import { openDockerExec } from './docker-exec-session.js';
import { readStats } from './docker-stats.js';
import { ensureImage } from './docker-image.js';
import { readLogs } from './docker-logs.js';
import { runProbe } from './docker-probe.js';
import { RETIRED_SUFFIX, ownedBy, toContainerState } from './docker-state.js';
import { tarArchive } from './tar-archive.js';

export interface DockerDriverOptions {
  clusterId: string;
  nodeName: string;
  /** Host address published ports bind to; tests use 127.0.0.1. */
  publishAddress: string;
  /** Default /var/run/docker.sock. */
  socketPath?: string | undefined;
  /** Per-container PIDs limit when the spec sets none (resources.pids); default 1024. */
  pidsLimit?: number | undefined;
  /** lxcfs proc files to mount into containers (detectProcViews); default none. */
  procViews?: readonly string[] | undefined;
  logger?: Logger | undefined;
  /** Labels added to every container besides the driver's own (tests add io.gantry.test=1). */
  extraLabels?: Readonly<Record<string, string>> | undefined;
  /** Where running containers' processes are looked up for ghost detection; default /proc. */
  procRoot?: string | undefined;
}

const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSuffix(): string {
  return Array.from(randomBytes(4), (b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('');
}

/** Docker's words for a host port another process or container holds ("Bind for 0.0.0.0:8080 failed: port is already allocated"). */
const PORT_TAKEN = /already allocated|address already in use/;

function takenPorts(reason: string): number[] {
  return [...reason.matchAll(/:(\d+)(?: failed|: bind)/g)].map((m) => Number(m[1]));
}

export class DockerDriver implements Driver {
  readonly name = 'docker';
  private readonly docker: Docker;
  private readonly pidsLimit: number;
  /** Aborted by close(): ends every stream, exec and pull this driver started. */
  private readonly lifetime = new AbortController();
  private readonly ghosts: GhostCheck;

  constructor(private readonly opts: DockerDriverOptions) {
    this.docker = new Docker({ socketPath: opts.socketPath ?? '/var/run/docker.sock' });
    this.pidsLimit = opts.pidsLimit ?? 1024;
    this.ghosts = new GhostCheck({ procRoot: opts.procRoot });
  }

  private get labelFilters(): string[] {
    return [`${LABELS.cluster}=${this.opts.clusterId}`, `${LABELS.node}=${this.opts.nodeName}`];
  }

  async fingerprint(): Promise<Fingerprint> {
    const info = (await this.docker.info()) as {
      NCPU?: number;
      MemTotal?: number;
      OperatingSystem?: string;
      KernelVersion?: string;
      ServerVersion?: string;
      CgroupVersion?: string;
      CgroupDriver?: string;
      DockerRootDir?: string;
    };
    return {
      driver: this.name,
      cpu: (info.NCPU ?? 0) * 1000,
      memory: info.MemTotal ?? 0,
      info: {
        os: info.OperatingSystem ?? 'unknown',
        kernel: info.KernelVersion ?? 'unknown',
        engineVersion: info.ServerVersion ?? 'unknown',
        cgroup: `v${info.CgroupVersion ?? '?'} (${info.CgroupDriver ?? 'unknown driver'})`,
        // Where images and containers take disk (the agent's DiskPressure looks there).
        ...(info.DockerRootDir ? { dataRoot: info.DockerRootDir } : {}),
        // Whether containers see their own limits in /proc (lxcfs; proc-views.ts).
        procViews: this.opts.procViews?.length ? `lxcfs: ${this.opts.procViews.join(', ')}` : 'none (install and start lxcfs for /proc/meminfo within the limit)',
      },
    };
  }

  ensureImage(image: string): Promise<void> {
    return ensureImage(this.docker, image, this.lifetime.signal);
  }

  /**
   * runAsNonRoot (as the kubelet does): the container must not start as uid 0, whether the spec's
   * runAsUser or the image's USER decides it. Refused before anything is created.
   */
  private async checkNonRoot(launch: ContainerLaunch): Promise<void> {
    const sc = launch.spec.securityContext;
    if (sc?.runAsNonRoot !== true) return;
    const what = `container "${launch.spec.name}" of instance ${launch.instance.namespace}/${launch.instance.name}`;
    const path = `spec.containers[${launch.index}].securityContext`;
    if (sc.runAsUser === 0) throw new InvalidError(`${what} sets runAsNonRoot and runAsUser 0`, [{ path: `${path}.runAsUser`, message: 'must not be 0 with runAsNonRoot' }]);
    if (sc.runAsUser !== undefined) return; // a uid other than 0, or auto (from the range, never 0)
    const user = ((await this.docker.getImage(launch.spec.image).inspect()) as { Config?: { User?: string } }).Config?.User ?? '';
    const name = user.split(':')[0] ?? '';
    if (name === '' || name === '0' || name === 'root') {
      throw new InvalidError(`${what} has runAsNonRoot, but its image ${launch.spec.image} runs as ${name || 'root (no USER)'}; set runAsUser`, [{ path: `${path}.runAsUser`, message: 'is required: the image runs as root' }]);
    }
  }

  async create(launch: ContainerLaunch): Promise<string> {
    await this.checkNonRoot(launch);
    const options = buildCreateOptions(launch, {
      clusterId: this.opts.clusterId,
      nodeName: this.opts.nodeName,
      publishAddress: this.opts.publishAddress,
      pidsLimit: this.pidsLimit,
      procViews: this.opts.procViews,
      nameSuffix: randomSuffix(),
      extraLabels: this.opts.extraLabels,
      onWarning: (message) => this.opts.logger?.warn({ namespace: launch.instance.namespace, name: launch.instance.name, container: launch.spec.name }, message),
    });
    try {
      const container = await this.docker.createContainer(options);
      this.opts.logger?.info(
        { namespace: launch.instance.namespace, name: launch.instance.name, container: launch.spec.name, id: container.id },
        'container created',
      );
      return container.id;
    } catch (e) {
      const status = dockerStatus(e);
      const what = `container "${launch.spec.name}" of instance ${launch.instance.namespace}/${launch.instance.name}`;
      // The daemon may have created it before its answer was lost: without an id no runner would
      // own it, so remove it by its (unique) name now rather than wait for the orphan sweep.
      if ((status === undefined || status >= 500) && options.name) await this.removeByName(options.name);
      if (status === 404) throw new ImageNotFoundError(launch.spec.image, `cannot create ${what}: ${dockerReason(e)}; call ensureImage first`);
      if (status === 409) throw new ConflictError(`cannot create ${what}: ${dockerReason(e)}`);
      throw new UnavailableError(`cannot create ${what}: ${dockerReason(e)}`);
    }
  }

  private async removeByName(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true, v: true });
      this.opts.logger?.warn({ container: name }, 'removed a container whose create failed after the daemon made it');
    } catch (e) {
      if (dockerStatus(e) !== 404) this.opts.logger?.warn({ container: name, err: dockerReason(e) }, 'could not remove a half-created container; the orphan sweep will');
    }
  }

  async start(id: string): Promise<ContainerState> {
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      const status = dockerStatus(e);
      if (status === 404) throw new NotFoundError('container', undefined, id, `container ${id.slice(0, 12)} not found; recreate it`);
      // 304: already running, which is what the caller wants.
      if (status !== 304) {
        const reason = dockerReason(e);
        const message = `cannot start container ${id.slice(0, 12)}: ${reason}`;
        // A host port someone else holds: the agent picks others (or, for a fixed one, another node
        // may fit). Docker says so only in words; this is the one place that reads them.
        if (PORT_TAKEN.test(reason)) throw new PortConflictError(message, takenPorts(reason));
        throw new UnavailableError(message);
      }
    }
    const state = await this.inspect(id);
    if (!state) throw new NotFoundError('container', undefined, id, `container ${id.slice(0, 12)} vanished right after it started`);
    return state;
  }

  async stop(id: string, timeoutSeconds: number, signal?: string): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      // Without a signal, Docker's stop sends the container's StopSignal (set at create).
      // API 1.41 (Engine 20.10) has no signal parameter on stop: kill, wait, then SIGKILL.
      if (signal === undefined) await container.stop({ t: timeoutSeconds });
      else await this.signalThenKill(container, timeoutSeconds, signal);
    } catch (e) {
      const status = dockerStatus(e);
      // 304/409: not running; 404: gone. Both are what the caller wants.
      if (status !== 304 && status !== 404 && status !== 409) throw new UnavailableError(`cannot stop container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
  }

  private async signalThenKill(container: Docker.Container, timeoutSeconds: number, signal: string): Promise<void> {
    await container.kill({ signal });
    // wait returns at once for a container that is not running.
    const exited = (container.wait({ condition: 'not-running' }) as Promise<unknown>).then(
      () => true,
      () => true,
    );
    const timer = new AbortController();
    const graceOver = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutSeconds * 1000);
      timer.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    const inTime = await Promise.race([exited, graceOver]);
    timer.abort();
    if (inTime) return;
    await container.kill({ signal: 'SIGKILL' });
    await exited;
  }

  async retire(id: string): Promise<void> {
    const container = this.docker.getContainer(id);
    let name: string;
    try {
      name = (await container.inspect()).Name.replace(/^\//, '');
    } catch (e) {
      if (dockerStatus(e) === 404) return;
      throw new UnavailableError(`cannot retire container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
    await this.stop(id, 0);
    if (name.endsWith(RETIRED_SUFFIX)) return;
    try {
      // Docker cannot change labels after create: the name is the durable mark recover() reads.
      await container.rename({ name: `${name}${RETIRED_SUFFIX}` });
    } catch (e) {
      if (dockerStatus(e) === 404) return;
      throw new UnavailableError(`cannot retire container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new UnavailableError(`Docker does not answer: ${dockerReason(e)}`);
    }
  }

  async destroy(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      const status = dockerStatus(e);
      // 409 "removal already in progress": someone else is doing what we asked.
      if (status === 404 || (status === 409 && /already in progress/.test(dockerReason(e)))) return;
      throw new UnavailableError(`cannot remove container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (e) {
      if (dockerStatus(e) === 404) return undefined;
      throw new UnavailableError(`cannot inspect container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
    // Another node's or a non-Gantry container is none of this driver's business.
    if (!ownedBy(info.Config.Labels, this.opts.clusterId, this.opts.nodeName)) return undefined;
    const state = toContainerState(info, this.opts.publishAddress);
    if (info.State.Running && !state.retired) {
      const ghost = await this.ghosts.reason(info.State.Pid, async () => {
        const again = await this.docker.getContainer(id).inspect().catch(() => undefined);
        return again && { running: again.State.Running, pid: again.State.Pid };
      });
      if (ghost) state.ghost = ghost;
    }
    return state;
  }

  async recover(): Promise<ContainerState[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: this.labelFilters } });
    const states = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  logs(id: string, opts: LogOptions): AsyncIterable<string> {
    return readLogs(this.docker, id, opts, this.lifetime.signal);
  }

  exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return runExec(this.docker, id, command, timeoutMs, this.lifetime.signal);
  }

  stats(id: string): Promise<ContainerUsage | undefined> {
    return readStats(this.docker, id, this.lifetime.signal);
  }

  openExec(id: string, opts: ExecSessionOptions): Promise<ExecProcess> {
    return openDockerExec(this.docker, id, opts);
  }

  async copyFiles(id: string, files: readonly FileToCopy[]): Promise<void> {
    if (files.length === 0) return;
    try {
      await this.docker.getContainer(id).putArchive(await tarArchive(files), { path: '/', abortSignal: this.lifetime.signal });
    } catch (e) {
      const status = dockerStatus(e);
      if (status === 404) throw new NotFoundError('container', undefined, id, `cannot copy config files into container ${id.slice(0, 12)}: ${dockerReason(e)}`);
      // The message names paths, never contents (they may be Secrets).
      throw new UnavailableError(`cannot copy config files (${files.map((f) => f.path).join(', ')}) into container ${id.slice(0, 12)}: ${dockerReason(e)}`);
    }
  }

  async ensureVolume(name: string, instance: InstanceRef): Promise<void> {
    const Labels = {
      ...this.opts.extraLabels,
      [LABELS.cluster]: this.opts.clusterId,
      [LABELS.node]: this.opts.nodeName,
      [LABELS.namespace]: instance.namespace,
      [LABELS.instance]: instance.name,
      [LABELS.instanceUid]: instance.uid,
    };
    try {
      // Creating a volume that exists answers with the existing one.
      await this.docker.createVolume({ Name: name, Labels });
    } catch (e) {
      throw new UnavailableError(`cannot create volume ${name}: ${dockerReason(e)}`);
    }
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove({ force: true });
    } catch (e) {
      if (dockerStatus(e) === 404) return;
      throw new UnavailableError(`cannot remove volume ${name}: ${dockerReason(e)}`);
    }
  }

  probe(state: ContainerState, ports: ContainerSpec['ports'], check: HealthCheck, timeoutMs: number): Promise<ProbeResult> {
    return runProbe(state, ports, check, timeoutMs, (command, t) => this.exec(state.id, command, t));
  }

  events(signal: AbortSignal): AsyncIterable<DriverEvent> {
    return streamEvents(this.docker, this.labelFilters, AbortSignal.any([signal, this.lifetime.signal]), this.opts.logger);
  }

  async close(): Promise<void> {
    this.lifetime.abort();
  }
}
