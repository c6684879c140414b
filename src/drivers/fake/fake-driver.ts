// An in-memory Driver: instant containers for unit tests and for the hollow nodes of
// `gantry sim` (thousands of nodes in one process). Per container it keeps one small record and
// no timer; events and followed logs wake through one listener set per driver. Containers run
// until stopped, except one whose command is `sleep <seconds>` (up to a day): it exits 0 that long
// after its start, as a batch job does (one timer while it runs); a longer sleep (a warm run's
// idle command) runs until stopped.
import {
  ConflictError,
  ImageNotFoundError,
  NotFoundError,
  PortConflictError,
  seededRandom,
  seedFrom,
  UnavailableError,
  type ContainerSpec,
  type HealthCheck,
  type RandomFn as Random,
} from '../../core/index.js';
import type {
  ContainerLaunch,
  ContainerState,
  ContainerUsage,
  Driver,
  DriverEvent,
  ExecProcess,
  ExecResult,
  ExecSessionOptions,
  FileToCopy,
  Fingerprint,
  InstanceRef,
  LogOptions,
  ProbeResult,
} from '../driver.js';
import { launchUser } from '../launch-user.js';

export interface FakeDriverOptions {
  nodeName: string;
  /** Millicores; default 32000. */
  cpu?: number;
  /** Bytes; default 128Gi. */
  memory?: number;
  /** Each start waits this long; default 0 (instant). */
  startLatencyMs?: number;
  /** Chance from 0 to 1 that a start fails; default 0. */
  failureRate?: number;
  /** Seed of the randomness behind failureRate; default derived from nodeName. */
  seed?: number;
  /** Images ensureImage and create treat as unobtainable. */
  missingImages?: string[];
  /** Host ports something else on the node holds: starting a container that publishes one fails with PortConflictError, as Docker's does. */
  hostPortsInUse?: number[];
}

interface FakeContainer {
  id: string;
  instance: InstanceRef;
  container: string;
  image: string;
  running: boolean;
  exitCode?: number | undefined;
  oomKilled?: boolean | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  lastFinishedAt?: string | undefined;
  error?: string | undefined;
  hostPorts: Record<string, number>;
  stopSignal: string;
  /** Signals the container received through stop(), in order (test hook signalsOf). */
  signals?: string[] | undefined;
  /** Test hook: the process ignores its stop signal, so only SIGKILL after the grace ends it. */
  ignoresStop?: boolean | undefined;
  /** Test hook: "running", but the process is gone. */
  ghost?: boolean | undefined;
  retired?: boolean | undefined;
  labels: Record<string, string>;
  mounts: string[];
  cpuset?: string | undefined;
  /** The User it runs as (runAsUser, auto resolved): test hook userOf. */
  user?: string | undefined;
  /** Its command is `sleep <seconds>`: it exits 0 this long after each start. */
  exitAfterMs?: number | undefined;
  exitTimer?: NodeJS.Timeout | undefined;
}

type Listener = (e: DriverEvent) => void;

const FIRST_HOST_PORT = 30000;
/** Exit codes of a process killed by a signal: 128 + its number. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };
const HOST_IP = '127.0.0.1';
/** The longest `sleep` a fake container ends by itself; longer ones run until stopped. */
const MAX_SLEEP_MS = 24 * 3600 * 1000;

/** How long a container with `command` runs before it exits 0: `sleep <seconds>` up to a day; else never. */
function sleepMsOf(command: readonly string[] | undefined): number | undefined {
  if (command?.length !== 2 || command[0] !== 'sleep' || !/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(command[1]!)) return undefined;
  const ms = Number(command[1]) * 1000;
  return ms <= MAX_SLEEP_MS ? ms : undefined;
}

export class FakeDriver implements Driver {
  readonly name = 'fake';
  private readonly containers = new Map<string, FakeContainer>();
  private readonly listeners = new Set<Listener>();
  private readonly missing: ReadonlySet<string>;
  private readonly random: Random;
  private readonly probeResults = new Map<string, boolean>();
  private readonly execResults = new Map<string, ExecResult>();
  private readonly exitOnStart = new Map<string, number>();
  private readonly copied = new Map<string, FileToCopy[]>();
  /** Named volumes that exist, by name. */
  readonly volumes = new Set<string>();
  /** Every exec, in order: container id and command. */
  readonly execs: { id: string; command: string[] }[] = [];
  /** Terminal sizes asked of exec sessions (openExec), in order. */
  readonly resizes: { id: string; cols: number; rows: number }[] = [];
  private readonly usage = new Map<string, ContainerUsage>();
  private nextId = 1;
  private down = false;
  private nextHostPort = FIRST_HOST_PORT;
  private closed = false;

  constructor(private readonly opts: FakeDriverOptions) {
    this.missing = new Set(opts.missingImages ?? []);
    this.random = seededRandom(opts.seed ?? seedFrom(opts.nodeName));
  }

  // ---- test hooks ----

  /** The container's process exits with `exitCode` (an OOM kill when `oomKilled`); emits oom and die. */
  crash(id: string, exitCode = 1, oomKilled = false): void {
    const c = this.mustGet(id);
    if (!c.running) return;
    clearTimeout(c.exitTimer);
    c.exitTimer = undefined;
    c.running = false;
    c.exitCode = exitCode;
    c.oomKilled = oomKilled || undefined;
    c.finishedAt = new Date().toISOString();
    if (oomKilled) this.emit({ id, action: 'oom', instanceUid: c.instance.uid });
    this.emit({ id, action: 'die', instanceUid: c.instance.uid });
  }

  /** The runtime stops answering (every call fails UNAVAILABLE) until setDown(false); containers keep running. */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** The container's process vanishes while the runtime still calls it running (a ghost). */
  makeGhost(id: string): void {
    this.mustGet(id).ghost = true;
  }

  /** The container's process ignores its stop signal: only SIGKILL after the grace period ends it. */
  ignoreStopSignal(id: string): void {
    this.mustGet(id).ignoresStop = true;
  }

  /** Signals stop() sent to the container, in order; SIGKILL when the grace period ran out. */
  signalsOf(id: string): readonly string[] {
    return this.containers.get(id)?.signals ?? [];
  }

  /** Every container's id and whether it is retired, for tests. */
  list(): { id: string; running: boolean; retired: boolean; container: string }[] {
    return [...this.containers.values()].map((c) => ({ id: c.id, running: c.running, retired: c.retired === true, container: c.container }));
  }

  /** Health checks of every container of `instanceName` return `ok` from now on. */
  setProbeResult(instanceName: string, ok: boolean): void {
    this.probeResults.set(instanceName, ok);
  }

  /**
   * exec in any container of `instanceName` returns `result` from now on (default exit code 0, no
   * output). A key that is a command joined by spaces (`sh -c exit 3`) matches that command first.
   */
  setExecResult(instanceName: string, result: ExecResult): void {
    this.execResults.set(instanceName, result);
  }

  /** A container named `containerName` (in its instance spec) exits with `exitCode` right after every start. */
  setExitOnStart(containerName: string, exitCode: number): void {
    this.exitOnStart.set(containerName, exitCode);
  }

  /** Files copied into a container so far (later copies of a path replace earlier ones). */
  filesOf(id: string): FileToCopy[] {
    return [...(this.copied.get(id) ?? [])];
  }

  /** The user a container runs as (runAsUser; auto resolved to the instance's uid), if set. */
  userOf(id: string): string | undefined {
    return this.containers.get(id)?.user;
  }

  /** The launch labels a container was created with. */
  labelsOf(id: string): Record<string, string> {
    return { ...(this.containers.get(id)?.labels ?? {}) };
  }

  // ---- Driver ----

  async fingerprint(): Promise<Fingerprint> {
    this.check();
    return {
      driver: this.name,
      cpu: this.opts.cpu ?? 32_000,
      memory: this.opts.memory ?? 128 * 2 ** 30,
      info: { os: 'fake', kernel: 'fake', engineVersion: 'fake-1', cgroup: 'none' },
    };
  }

  async ensureImage(image: string): Promise<void> {
    if (this.missing.has(image)) {
      throw new ImageNotFoundError(image, `image "${image}" not found locally and could not be pulled: fake driver lists it in missingImages`);
    }
  }

  async create(launch: ContainerLaunch): Promise<string> {
    this.check();
    await this.ensureImage(launch.spec.image);
    const id = `fake-${this.opts.nodeName}-${(this.nextId++).toString(36)}`;
    const hostPorts: Record<string, number> = {};
    if (launch.index === 0) {
      for (const p of launch.publish) hostPorts[p.name] = p.hostPort ?? this.nextHostPort++;
    }
    this.containers.set(id, {
      id,
      instance: { ...launch.instance },
      container: launch.spec.name,
      image: launch.spec.image,
      running: false,
      hostPorts,
      stopSignal: launch.stopSignal ?? 'SIGTERM',
      labels: { ...launch.labels },
      mounts: launch.mounts?.map((m) => m.volume) ?? [],
      ...(launch.cpuset ? { cpuset: launch.cpuset } : {}),
      ...(launchUser(launch) !== undefined ? { user: launchUser(launch) } : {}),
      ...(sleepMsOf(launch.spec.command) !== undefined ? { exitAfterMs: sleepMsOf(launch.spec.command) } : {}),
    });
    return id;
  }

  async start(id: string): Promise<ContainerState> {
    const latency = this.opts.startLatencyMs ?? 0;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    this.check();
    const c = this.mustGet(id);
    if (c.running) return this.toState(c);
    const taken = Object.values(c.hostPorts).filter((p) => this.opts.hostPortsInUse?.includes(p));
    if (taken.length > 0) {
      c.exitCode = 128;
      c.error = `Bind for ${HOST_IP}:${taken[0]} failed: port is already allocated`;
      c.finishedAt = new Date().toISOString();
      throw new PortConflictError(`cannot start container ${id}: ${c.error}`, taken);
    }
    if (this.random() < (this.opts.failureRate ?? 0)) {
      c.exitCode = 128;
      c.error = 'simulated start failure (fake driver failureRate)';
      c.finishedAt = new Date().toISOString();
      throw new UnavailableError(`cannot start container ${id}: ${c.error}`);
    }
    c.running = true;
    c.ghost = undefined;
    c.exitCode = undefined;
    c.oomKilled = undefined;
    c.error = undefined;
    c.lastFinishedAt = c.finishedAt;
    c.finishedAt = undefined;
    c.startedAt = new Date().toISOString();
    this.emit({ id, action: 'start', instanceUid: c.instance.uid });
    const exitCode = this.exitOnStart.get(c.container);
    if (exitCode !== undefined) this.halt(c, exitCode);
    else if (c.exitAfterMs !== undefined) {
      const timer = setTimeout(() => {
        // A ghost's process is gone: it cannot exit (nor say so).
        if (c.running && !c.ghost && c.exitTimer === timer) this.halt(c, 0);
      }, c.exitAfterMs);
      timer.unref();
      c.exitTimer = timer;
    }
    return this.toState(c);
  }

  async stop(id: string, timeoutSeconds: number, signal?: string): Promise<void> {
    this.check();
    const c = this.containers.get(id);
    if (!c?.running) return;
    const sig = signal ?? c.stopSignal;
    (c.signals ??= []).push(sig);
    // A ghost cannot be signalled; neither can a process that ignores the signal: both wait out
    // the grace period. Only such containers cost a timer, and only while they are being stopped.
    if (c.ghost || (c.ignoresStop && sig !== 'SIGKILL')) {
      await new Promise((r) => setTimeout(r, timeoutSeconds * 1000));
      if (c.ghost || !c.running) return;
      c.signals.push('SIGKILL');
      this.halt(c, 137);
      return;
    }
    this.halt(c, 128 + (SIGNAL_NUMBERS[sig] ?? 15));
  }

  async retire(id: string): Promise<void> {
    this.check();
    const c = this.containers.get(id);
    if (!c) return;
    if (c.running) this.halt(c, 128 + (SIGNAL_NUMBERS[c.stopSignal] ?? 15));
    c.retired = true;
  }

  async ping(): Promise<void> {
    this.check();
  }

  async destroy(id: string): Promise<void> {
    this.check();
    const c = this.containers.get(id);
    if (!c) return;
    // Like `docker rm -f`: kills directly, it does not go through stop().
    if (c.running) this.halt(c, 137);
    this.containers.delete(id);
    this.copied.delete(id);
    this.emit({ id, action: 'destroy', instanceUid: c.instance.uid });
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    this.check();
    const c = this.containers.get(id);
    return c ? this.toState(c) : undefined;
  }

  async recover(): Promise<ContainerState[]> {
    this.check();
    return [...this.containers.values()].map((c) => this.toState(c));
  }

  async *logs(id: string, opts: LogOptions): AsyncGenerator<string, void, undefined> {
    const c = this.mustGet(id);
    const lines = [
      `fake: ${c.container} of ${c.instance.namespace}/${c.instance.name} on ${this.opts.nodeName}`,
      `fake: image ${c.image}`,
      c.running ? 'fake: running' : `fake: exited with code ${c.exitCode ?? 0}`,
    ];
    const tail = opts.tail === undefined ? lines : opts.tail <= 0 ? [] : lines.slice(-opts.tail);
    for (const line of tail) yield line;
    // Re-read: the container may have died or gone while the caller consumed the lines.
    if (!opts.follow || !this.containers.get(id)?.running) return;
    // Following: nothing more is written; end when the container goes away or the caller stops.
    await this.until((e) => e.id === id && (e.action === 'destroy' || e.action === 'die'), opts.signal);
  }

  async exec(id: string, command: readonly string[], _timeoutMs: number): Promise<ExecResult> {
    const c = this.mustGet(id);
    if (!c.running) throw new ConflictError(`cannot exec in container ${id}: it is not running; start it first`);
    this.execs.push({ id, command: [...command] });
    return this.execResults.get(command.join(' ')) ?? this.execResults.get(c.instance.name) ?? { exitCode: 0, output: '' };
  }

  /** Usage set with setUsage for a container's instance (zeros by default); undefined when not running. */
  async stats(id: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(id);
    if (!c?.running) return undefined;
    return this.usage.get(c.instance.name) ?? { cpuSeconds: 0, memoryWorkingSetBytes: 0, memoryRssBytes: 0, memoryLimitBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1 };
  }

  setUsage(instanceName: string, usage: ContainerUsage): void {
    this.usage.set(instanceName, usage);
  }

  /**
   * An exec session as a test double: the process prints the output set with setExecResult for its
   * command, then echoes stdin back on stdout (as `cat`), and exits with that result's code once
   * stdin closes (137 when killed). Resizes are recorded in `resizes`.
   */
  async openExec(id: string, opts: ExecSessionOptions): Promise<ExecProcess> {
    const c = this.mustGet(id);
    if (!c.running) throw new ConflictError(`cannot exec in container ${id}: it is not running`);
    this.execs.push({ id, command: [...opts.command] });
    const result = this.execResults.get(opts.command.join(' ')) ?? { exitCode: 0, output: '' };
    const listeners: ((stream: 1 | 2, data: Uint8Array) => void)[] = [];
    const pending: Uint8Array[] = result.output ? [new TextEncoder().encode(result.output)] : [];
    let finish: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (finish = resolve));
    let done = false;
    const end = (code: number): void => {
      if (done) return;
      done = true;
      finish(code);
    };
    const resizes = this.resizes;
    return {
      onOutput(listener) {
        listeners.push(listener);
        for (const data of pending.splice(0)) listener(1, data);
      },
      write(data) {
        if (!done && opts.stdin) for (const l of listeners) l(1, data);
      },
      closeStdin() {
        end(result.exitCode);
      },
      async resize(cols, rows) {
        resizes.push({ id, cols, rows });
      },
      exited,
      async kill() {
        end(137);
      },
    };
  }

  async copyFiles(id: string, files: readonly FileToCopy[]): Promise<void> {
    this.mustGet(id);
    const byPath = new Map((this.copied.get(id) ?? []).map((f) => [f.path, f]));
    for (const f of files) byPath.set(f.path, { ...f });
    this.copied.set(id, [...byPath.values()]);
  }

  async ensureVolume(name: string, _instance: InstanceRef): Promise<void> {
    this.volumes.add(name);
  }

  async removeVolume(name: string): Promise<void> {
    if ([...this.containers.values()].some((c) => c.mounts.includes(name))) {
      throw new ConflictError(`volume ${name} is in use by a container; remove the container first`);
    }
    this.volumes.delete(name);
  }

  async probe(state: ContainerState, _ports: ContainerSpec['ports'], check: HealthCheck, _timeoutMs: number): Promise<ProbeResult> {
    const c = this.containers.get(state.id);
    if (!c?.running) return { ok: false, message: 'container is not running' };
    const ok = this.probeResults.get(c.instance.name) ?? true;
    if (ok) return { ok };
    const what = check.http ? `GET ${check.http.path ?? '/'} -> 500` : check.tcp ? `connect ${HOST_IP}: ECONNREFUSED` : 'exit code 1';
    return { ok, message: `${what} (fake driver setProbeResult)` };
  }

  async *events(signal: AbortSignal): AsyncGenerator<DriverEvent, void, undefined> {
    const queue: DriverEvent[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (e) => {
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted && !this.closed) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.listeners.delete(listener);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.containers.values()) clearTimeout(c.exitTimer);
    // Wake every waiting events()/logs() consumer so it sees `closed` and ends.
    for (const l of [...this.listeners]) l({ id: '', action: 'destroy' });
  }

  // ---- internals ----

  private halt(c: FakeContainer, exitCode: number): void {
    clearTimeout(c.exitTimer);
    c.exitTimer = undefined;
    c.running = false;
    c.exitCode = exitCode;
    c.finishedAt = new Date().toISOString();
    this.emit({ id: c.id, action: 'die', instanceUid: c.instance.uid });
  }

  private emit(e: DriverEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Resolves on the first event matching `match`, on abort, or on close. */
  private until(match: (e: DriverEvent) => boolean, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(listener);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const listener: Listener = (e) => {
        if (this.closed || match(e)) done();
      };
      this.listeners.add(listener);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private check(): void {
    if (this.down) throw new UnavailableError(`fake runtime of node ${this.opts.nodeName} is down (setDown)`);
  }

  private mustGet(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new NotFoundError('container', undefined, id, `container ${id} not found on fake node ${this.opts.nodeName}`);
    return c;
  }

  private toState(c: FakeContainer): ContainerState {
    const state: ContainerState = {
      id: c.id,
      instance: { ...c.instance },
      container: c.container,
      running: c.running,
      hostPorts: { ...c.hostPorts },
      hostIP: HOST_IP,
    };
    if (!c.running) state.exitCode = c.exitCode ?? 0;
    if (c.oomKilled) state.oomKilled = true;
    if (c.startedAt) state.startedAt = c.startedAt;
    if (c.finishedAt) state.finishedAt = c.finishedAt;
    if (c.running && c.lastFinishedAt) state.lastFinishedAt = c.lastFinishedAt;
    if (c.error) state.error = c.error;
    if (c.running && c.ghost) state.ghost = 'the fake process is gone (makeGhost)';
    if (c.retired) state.retired = true;
    if (c.cpuset) state.cpuset = c.cpuset;
    return state;
  }
}
