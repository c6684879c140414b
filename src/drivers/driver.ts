// The Driver interface (docs/architecture.md, "Agent and drivers"): what the agent asks of a
// container runtime. Container-level operations; the agent composes instances out of them.
// Implementations: docker/docker-driver.ts (dockerode) and fake/fake-driver.ts (in memory).
import type { ContainerSpec, HealthCheck } from '../core/index.js';

export interface InstanceRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface Fingerprint {
  driver: string;
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  /** Free-form facts for `describe node`: os, kernel, engine version. */
  info: Record<string, string>;
}

export interface ContainerLaunch {
  instance: InstanceRef;
  spec: ContainerSpec;
  /** 0 for the first container, which owns the instance's network namespace and publishes every port. */
  index: number;
  /** For index > 0: the first container's id, whose network namespace this one joins. */
  networkOf?: string | undefined;
  /** For index 0: all ports of all the instance's containers (they share one network namespace). */
  publish: { name: string; containerPort: number; protocol: 'tcp' | 'udp'; hostPort?: number | undefined }[];
  /** Environment from the spec plus what Gantry injects (GANTRY_INSTANCE ...). */
  env: Record<string, string>;
  /** Fixed per instance so it survives restarts. */
  hostname: string;
  /** For index 0 (it owns the network namespace): resolv.conf name servers and search domains. */
  dns?: { servers: string[]; search: string[] } | undefined;
  /** The signal `stop` sends by default (Instance.spec.termination.stopSignal); default SIGTERM. */
  stopSignal?: string | undefined;
  /**
   * What to mount: named volumes (the instance's scratch space made with ensureVolume, a spec's
   * namedVolume) or host paths (spec.volumes[].hostPath, where the admission profile allowed it).
   */
  mounts?: { volume: string; path: string; readOnly?: boolean | undefined }[] | undefined;
  /** The host namespaces the instance shares (spec.hostNetwork/hostPID/hostIPC; admission decided). */
  host?: { network?: boolean | undefined; pid?: boolean | undefined; ipc?: boolean | undefined } | undefined;
  /** Labels besides the driver's own, e.g. LABELS.warm on a warm container. */
  labels?: Record<string, string> | undefined;
  /** The instance's uid for `runAsUser: auto` (Instance.spec.autoUid, picked by the scheduler). */
  autoUid?: number | undefined;
  /** cpuMode cpuset: the cores the agent pinned for this container (a cpu list like `2,3`). */
  cpuset?: string | undefined;
}

/** One file to write into a container (config files). */
export interface FileToCopy {
  /** Absolute path in the container. */
  path: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  content: string;
}

export interface ContainerState {
  id: string;
  instance: InstanceRef;
  /** The container's name within its instance (spec.containers[].name). */
  container: string;
  running: boolean;
  /** Created but never started, or exited. */
  exitCode?: number | undefined;
  oomKilled?: boolean | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  /**
   * While a restarted container runs again: when its previous run ended. Its log lines up to
   * this time are that run's (the new run's first lines can be stamped before startedAt).
   */
  lastFinishedAt?: string | undefined;
  /** Port name -> host port, for published ports (only on the first container). */
  hostPorts: Record<string, number>;
  /** Host address the ports are bound to, as a client would dial it. */
  hostIP?: string | undefined;
  pid?: number | undefined;
  error?: string | undefined;
  /** The cores it is pinned to (cpuMode cpuset), as the runtime reports them. */
  cpuset?: string | undefined;
  /**
   * Set when the runtime says "running" but the container's process is gone (a ghost): why we
   * think so. Such a container can be neither stopped nor trusted; the agent force-removes it.
   */
  ghost?: string | undefined;
  /**
   * A dead container the agent replaced and keeps only so its logs stay readable (see retire());
   * it belongs to no slot and is garbage-collected after the dead-container TTL.
   */
  retired?: boolean | undefined;
}

export interface ProbeResult {
  ok: boolean;
  message?: string | undefined;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/** A running container's usage now: counters since it started, gauges as they are. */
export interface ContainerUsage {
  /** CPU time used, seconds (a counter). */
  cpuSeconds: number;
  /** Memory usage less inactive file cache (what the kernel cannot easily reclaim): docker stats' MEM USAGE. */
  memoryWorkingSetBytes: number;
  memoryRssBytes: number;
  /** The container's memory limit (the host's memory when unlimited). */
  memoryLimitBytes: number;
  /** Counters; absent for a container that shares another's network (a pod's second container). */
  networkRxBytes?: number | undefined;
  networkTxBytes?: number | undefined;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
}

/** An interactive process in a running container (an exec session: `gantry exec`, the console's terminal). */
export interface ExecSessionOptions {
  command: readonly string[];
  /** A pseudo-terminal: one output stream, resizable. */
  tty: boolean;
  /** Attach stdin (write() / closeStdin()). */
  stdin: boolean;
  cols?: number | undefined;
  rows?: number | undefined;
}

export interface ExecProcess {
  /** Output bytes as they come: `stream` 1 stdout, 2 stderr (with a TTY everything is 1). Ends when the process does. */
  onOutput(listener: (stream: 1 | 2, data: Uint8Array) => void): void;
  write(data: Uint8Array): void;
  /** End of input (the process reads EOF). */
  closeStdin(): void;
  resize(cols: number, rows: number): Promise<void>;
  /** The exit code, once the process has ended and its output was all delivered. */
  readonly exited: Promise<number>;
  /** Ends the process now (SIGKILL; the runtime cannot end an exec by itself) if it still runs. */
  kill(): Promise<void>;
}

export interface LogOptions {
  follow: boolean;
  tail?: number | undefined;
  /** Each line starts with the runtime's RFC 3339 time and a space. */
  timestamps?: boolean | undefined;
  /** Only lines written before this time (ISO): a restarted container's previous run. */
  until?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type DriverEvent = {
  id: string;
  action: 'start' | 'die' | 'oom' | 'destroy';
  /** The instance the container belongs to (its LABELS.instanceUid), when the runtime says: the agent routes the event by it. */
  instanceUid?: string | undefined;
};

export interface Driver {
  readonly name: string;
  fingerprint(): Promise<Fingerprint>;
  /** Pulls only when absent. Throws AppError NOT_FOUND (no such image) or UNAVAILABLE (registry timeout) when it cannot be had. */
  ensureImage(image: string): Promise<void>;
  /** Creates (does not start) a labelled container; returns its id. */
  create(launch: ContainerLaunch): Promise<string>;
  start(id: string): Promise<ContainerState>;
  /**
   * Sends `signal` (default: the container's stop signal, SIGTERM unless set at create), then
   * SIGKILL after timeoutSeconds. Idempotent: no error when already stopped.
   */
  stop(id: string, timeoutSeconds: number, signal?: string): Promise<void>;
  /**
   * Keeps a dead container that the agent replaces, so its logs stay readable until the
   * dead-container GC removes it: stops it if it still runs and marks it retired (recover() and
   * inspect() then report `retired: true`). Idempotent.
   */
  retire(id: string): Promise<void>;
  /** Whether the runtime answers at all (a cheap call); throws AppError UNAVAILABLE when not. */
  ping(): Promise<void>;
  /** Force-removes the container. Idempotent: no error when already gone. */
  destroy(id: string): Promise<void>;
  inspect(id: string): Promise<ContainerState | undefined>;
  /** Every container this driver's node owns (by label), running or not. */
  recover(): Promise<ContainerState[]>;
  /** Plain-text log lines (stdout and stderr interleaved). Ends when not following, or on abort. */
  logs(id: string, opts: LogOptions): AsyncIterable<string>;
  exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** The container's usage now; undefined when it is gone or not running. */
  stats(id: string): Promise<ContainerUsage | undefined>;
  /** Starts an interactive process in a running container. NOT_FOUND: no container; CONFLICT: not running. */
  openExec(id: string, opts: ExecSessionOptions): Promise<ExecProcess>;
  /**
   * Writes files into a created container (before start works, also for FROM-scratch images):
   * missing parent directories are made (0755), files get their mode and belong to root.
   */
  copyFiles(id: string, files: readonly FileToCopy[]): Promise<void>;
  /** Makes a named volume labelled for this node and instance; idempotent. */
  ensureVolume(name: string, instance: InstanceRef): Promise<void>;
  /** Removes a named volume; idempotent (no error when gone). */
  removeVolume(name: string): Promise<void>;
  /** Runs one health check against a running container (http/tcp via its published host port). */
  probe(state: ContainerState, ports: ContainerSpec['ports'], check: HealthCheck, timeoutMs: number): Promise<ProbeResult>;
  /** Container lifecycle events for this node's containers, until the signal aborts. */
  events(signal: AbortSignal): AsyncIterable<DriverEvent>;
  close(): Promise<void>;
}

/** Labels every Gantry container carries; the agent touches no container without them. */
export const LABELS = {
  cluster: 'io.gantry.cluster',
  node: 'io.gantry.node',
  namespace: 'io.gantry.namespace',
  instance: 'io.gantry.instance',
  instanceUid: 'io.gantry.instance-uid',
  container: 'io.gantry.container',
  index: 'io.gantry.index',
  /** On a warm container (jobs with runIn warm): `<group>@<template hash>`; see agent/instance/warm-pool.ts. */
  warm: 'io.gantry.warm',
} as const;
