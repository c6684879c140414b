// Keeps one InstanceRunner per Instance bound to this node: starts runners for new instances,
// removes those of deleted ones, hands recovered containers to their runners (adoption) and
// destroys labelled containers that no instance wants, but only once a full list arrived (then
// again on every relist and every orphanSweepIntervalMs, which catches what a failed removal or a
// half-failed create left behind). Tells what it did as events: on the node (Adopted,
// RemovedOrphan) and on the instance (Killing).
import type { Logger } from 'pino';
import { DEFAULT_CPU, describeError, formatCpuList, parseCpu, parseCpuList, sleep, namespaceOf, type Instance, type InstanceStatus } from '../core/index.js';
import type { ClientWatchEvent } from '../client/types.js';
import type { ContainerState, Driver, DriverEvent } from '../drivers/driver.js';
import type { CpusetAllocator } from './node/cpuset-allocator.js';
import type { EventReporter } from './node/event-reporter.js';
import type { FileSource } from './instance/file-gate.js';
import type { HostPortAllocator } from './instance/host-ports.js';
import { InstanceRunner } from './instance/instance-runner.js';
import { removeContainer } from './instance/remove-container.js';
import type { Runner } from './instance/runner.js';
import { formatDelay, type BackoffOptions } from './instance/restart-backoff.js';
import type { StatusReporter } from './node/status-reporter.js';
import { WarmPool, isWarmUid } from './instance/warm-pool.js';
import { WarmRunner } from './instance/warm-runner.js';


export interface InstanceSupervisorOptions {
  driver: Driver;
  nodeName: string;
  hostIP: string;
  logger: Logger;
  reporter: StatusReporter;
  events?: EventReporter | undefined;
  restartBackoff?: BackoffOptions | undefined;
  stopGraceSeconds?: number | undefined;
  /** How often runOrphanSweeps() looks for labelled containers no instance wants; default 60000. */
  orphanSweepIntervalMs?: number | undefined;
  /** Where runners fetch config file contents (agent.ts: the client, as this node). */
  files?: FileSource | undefined;
  /** Warm containers (runIn warm) without a run for this long are removed; default 60000. */
  warmIdleMs?: number | undefined;
  /** How long shutdown() waits for reconcile passes in flight; default 10000. */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Dead containers (exited, and kept only for their logs: retired by a runner, or of a finished
   * instance) older than this are removed by the sweep; default 1 h.
   */
  deadContainerTtlMs?: number | undefined;
  /** For tests: the clock of the dead-container GC. */
  now?: (() => number) | undefined;
  /** Host ports for published ports, picked before containers exist (GANTRY_PORT_<NAME>). */
  hostPorts?: HostPortAllocator | undefined;
  /** Name servers for containers' resolv.conf (--dns-for-containers). */
  dnsServers?: readonly string[] | undefined;
  /** Whole cores for containers with cpuMode cpuset; absent: such containers cannot start here. */
  cpusets?: CpusetAllocator | undefined;
  /** Whether the driver mounts lxcfs' /proc views (reported per instance in status.isolation). */
  procViews?: boolean | undefined;
}

const DEFAULT_DEAD_CONTAINER_TTL_MS = 3_600_000;

export class InstanceSupervisor {
  /** By instance uid: a deleted and re-created instance of the same name is a different one. */
  private readonly runners = new Map<string, Runner>();
  /** The warm containers of jobs with runIn warm, shared by their runs (WarmRunner). */
  readonly warm: WarmPool;
  /** Removals in flight, by instance uid: their containers are theirs to destroy, not the sweep's. */
  private readonly removals = new Map<string, Promise<void>>();
  /** Container ids an orphan removal is working on, so a sweep and a relist never both take one. */
  private readonly orphansInFlight = new Set<string>();
  /** Containers found at start, by instance uid, until the first full list decides their fate. */
  private adoptable = new Map<string, ContainerState[]>();
  private listedOnce = false;
  /** Containers handed to runners during the first sync, for one Adopted event. */
  private readonly adoptedNow: ContainerState[] = [];
  /** A sweep soon after a container no runner owns started (made behind Gantry's back). */
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: InstanceSupervisorOptions) {
    this.warm = new WarmPool({
      driver: opts.driver,
      nodeName: opts.nodeName,
      hostIP: opts.hostIP,
      logger: opts.logger,
      idleMs: opts.warmIdleMs,
      stopGraceSeconds: opts.stopGraceSeconds,
    });
  }

  get size(): number {
    return this.runners.size;
  }

  /** What driver.recover() found at start; call before the first sync. */
  setRecovered(states: readonly ContainerState[]): void {
    this.adoptable = new Map();
    // Warm containers belong to their job's pool, not to one instance.
    this.warm.adopt(states);
    // Every port a container of ours holds stays out of the allocator's hands: adopted ones keep
    // theirs, and the unwanted ones hold theirs until they are destroyed.
    this.opts.hostPorts?.reserve(states.flatMap((s) => Object.values(s.hostPorts)));
    for (const s of states) {
      if (isWarmUid(s.instance.uid)) continue;
      const list = this.adoptable.get(s.instance.uid) ?? [];
      list.push(s);
      this.adoptable.set(s.instance.uid, list);
    }
  }

  /** A full list of the instances wanted here: the level everything is reconciled to. */
  async sync(items: readonly Instance[]): Promise<void> {
    const wanted = new Set(items.map((i) => i.metadata.uid));
    for (const [uid, runner] of this.runners) if (!wanted.has(uid)) this.remove(uid, runner, 'the instance was deleted');
    for (const inst of items) this.upsert(inst);
    let leftovers: ContainerState[];
    const firstList = !this.listedOnce;
    if (firstList) {
      leftovers = [...this.adoptable.values()].flat();
      this.adoptable.clear();
      this.listedOnce = true;
    } else {
      leftovers = await this.opts.driver.recover().catch((e: unknown) => {
        this.opts.logger.warn({ err: describeError(e) }, 'could not list containers for cleanup');
        return [];
      });
    }
    const unwanted = leftovers.filter((s) => !wanted.has(s.instance.uid) && !isWarmUid(s.instance.uid));
    if (firstList) this.noteAdopted(this.adoptedNow.splice(0).filter((s) => s.running));
    await this.destroyOrphans(unwanted);
  }

  /**
   * One orphan sweep: destroys labelled containers whose instance has no runner here and no
   * removal in flight. Does nothing before the first full list (until then every container may
   * still be adopted).
   */
  async sweepOrphans(): Promise<void> {
    if (!this.listedOnce) return;
    let found: ContainerState[];
    try {
      found = await this.opts.driver.recover();
    } catch (e) {
      this.opts.logger.warn({ err: describeError(e) }, 'could not list containers for the orphan sweep; will retry');
      return;
    }
    await this.destroyOrphans(found);
    await this.collectDead(found);
  }

  /**
   * The dead-container GC: removes exited containers kept only for their logs (retired ones, and
   * those of finished instances) once they have been dead for the TTL. Running containers and
   * containers a runner may start again are never touched.
   */
  async collectDead(found: readonly ContainerState[]): Promise<void> {
    const ttl = this.opts.deadContainerTtlMs ?? DEFAULT_DEAD_CONTAINER_TTL_MS;
    const now = (this.opts.now ?? Date.now)();
    const dead = found.filter((s) => {
      if (s.running || this.orphansInFlight.has(s.id)) return false;
      const finishedAt = s.finishedAt ? Date.parse(s.finishedAt) : NaN;
      if (!Number.isFinite(finishedAt) || now - finishedAt < ttl) return false;
      const runner = this.runners.get(s.instance.uid);
      return runner !== undefined && runner.owns(s.id) && (s.retired === true || runner.finished);
    });
    if (dead.length === 0) return;
    let removed = 0;
    for (const s of dead) this.orphansInFlight.add(s.id);
    await Promise.all(
      dead.map(async (s) => {
        try {
          await this.opts.driver.destroy(s.id);
          this.runners.get(s.instance.uid)?.forgetContainer(s.id);
          removed++;
        } catch (e) {
          this.opts.logger.warn({ id: s.id, err: describeError(e) }, 'could not remove a dead container; the next sweep retries');
        } finally {
          this.orphansInFlight.delete(s.id);
        }
      }),
    );
    if (removed === 0) return;
    this.opts.logger.info({ removed, ttlMs: ttl }, 'removed dead containers');
    this.opts.events?.emit(
      { kind: 'Node', name: this.opts.nodeName },
      'Normal',
      'RemovedDead',
      `removed ${removed} dead container${removed === 1 ? '' : 's'} (exited more than ${formatDelay(ttl)} ago; their logs are gone with them)`,
    );
  }

  /** The runtime stopped answering: health verdicts from the outage are not acted on. */
  runtimeLost(): void {
    for (const runner of this.runners.values()) runner.runtimeLost();
  }

  /**
   * The runtime answers again after an outage (dockerd restarted with live-restore): containers
   * kept running and keep their ids, so nothing is recreated; every runner re-reads its
   * containers, health checks start afresh, and a sweep removes what no instance wants.
   */
  async runtimeRecovered(): Promise<number> {
    for (const runner of this.runners.values()) runner.runtimeRecovered();
    if (!this.listedOnce) return 0;
    const found = await this.opts.driver.recover();
    await this.destroyOrphans(found);
    return found.length;
  }

  /**
   * Sweeps every orphanSweepIntervalMs (±20%) until the signal aborts. The jitter keeps agents
   * apart: 10,000 hollow nodes in one simulator, whose timers a stalled loop had lined up, swept
   * all at once, 9,800 in 3 s and a third of its CPU for a while.
   */
  async runOrphanSweeps(signal: AbortSignal): Promise<void> {
    const interval = this.opts.orphanSweepIntervalMs ?? 60_000;
    while (!signal.aborted) {
      await sleep(interval * (0.8 + 0.4 * Math.random()), signal);
      if (!signal.aborted) await this.sweepOrphans();
    }
  }

  handle(ev: ClientWatchEvent): void {
    const obj = ev.object;
    if (obj?.kind !== 'Instance') return;
    const runner = this.runners.get(obj.metadata.uid);
    // An instance moved off this node leaves the field selector; treat it like a deletion.
    if (ev.type === 'DELETED' || obj.spec.node !== this.opts.nodeName) {
      if (runner) this.remove(obj.metadata.uid, runner, ev.type === 'DELETED' ? 'the instance was deleted' : `the instance moved to node ${obj.spec.node ?? '(none)'}`);
      return;
    }
    this.upsert(obj);
  }

  /** Routes a driver event to the instance that owns the container, so it reacts at once. */
  onDriverEvent(ev: DriverEvent): void {
    // By the instance the container is labelled with; a look through every runner otherwise
    // (a simulator's 20 runners a node made that look a twelfth of its CPU).
    const labelled = ev.instanceUid === undefined ? undefined : this.runners.get(ev.instanceUid);
    if (labelled?.owns(ev.id)) {
      labelled.poke();
      return;
    }
    for (const runner of this.runners.values()) {
      if (runner.owns(ev.id)) {
        runner.poke();
        return;
      }
    }
    // A labelled container no runner knows started: likely made behind our back (a runner's own
    // containers are known before they start). One sweep a moment later, not one per event.
    if (ev.action === 'start' && this.listedOnce && !this.sweepTimer) {
      this.sweepTimer = setTimeout(() => {
        this.sweepTimer = undefined;
        void this.sweepOrphans();
      }, 1000);
    }
  }

  /** The safety net for missed events: every runner inspects its containers again. */
  pokeAll(): void {
    for (const runner of this.runners.values()) runner.poke();
  }

  /** Every running container of this node's instances, with what the stats need to label it. */
  liveContainers(): LiveContainer[] {
    const out: LiveContainer[] = [];
    for (const runner of this.runners.values()) {
      const inst = runner instanceof InstanceRunner ? runner.current : undefined;
      if (!inst) continue;
      for (const c of runner.liveContainers()) {
        out.push({
          ...c,
          namespace: inst.metadata.namespace ?? 'default',
          instance: inst.metadata.name,
          service: inst.spec.service,
          requests: { cpuMillis: inst.spec.resources.cpu, memoryBytes: inst.spec.resources.memory },
        });
      }
    }
    return out;
  }

  owns(containerId: string): boolean {
    for (const runner of this.runners.values()) if (runner.owns(containerId)) return true;
    return this.warm.owns(containerId);
  }

  /** The output of a warm run by its log id (`run.<uid>`); undefined when no such run is here. */
  runLog(logId: string, tail: number | undefined): string[] | undefined {
    for (const runner of this.runners.values()) {
      const lines = runner.keptLog(logId, tail);
      if (lines) return lines;
    }
    return undefined;
  }

  /**
   * The agent stops: runners let go of their containers (which keep running); removals and
   * reconcile passes in flight finish (up to shutdownTimeoutMs), so no driver call outlives us.
   */
  async shutdown(): Promise<void> {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    const runners = [...this.runners.values()];
    for (const runner of runners) runner.detach();
    this.runners.clear();
    const settled = Promise.all([...runners.map((r) => r.idle()), ...this.removals.values()]).then(() => true);
    const limit = this.opts.shutdownTimeoutMs ?? 10_000;
    const abort = new AbortController();
    const timedOut = sleep(limit, abort.signal).then(() => false);
    const finished = await Promise.race([settled, timedOut]);
    abort.abort();
    if (!finished) this.opts.logger.warn({ waitedMs: limit }, 'driver calls still in flight at shutdown; not waiting longer');
  }

  private upsert(inst: Instance): void {
    const uid = inst.metadata.uid;
    const existing = this.runners.get(uid);
    if (existing) {
      // Instance specs do not change but for a stop request; our own status reports are left out
      // of the watch (omitStatusChanges), so the status a runner holds is as of its last other change.
      existing.update(inst);
      return;
    }
    const adopted = this.adoptable.get(uid);
    this.adoptable.delete(uid);
    if (adopted) this.adoptedNow.push(...adopted);
    const { driver, nodeName, hostIP, logger, reporter, restartBackoff, stopGraceSeconds, hostPorts, dnsServers } = this.opts;
    const onStatus = (i: Instance, status: InstanceStatus, urgent?: boolean): void => {
      // A finished instance holds no cores (the scheduler stops counting them too).
      if (status.phase === 'Succeeded' || status.phase === 'Failed') this.opts.cpusets?.releasePrefix(`${uid}/`);
      reporter.report(namespaceOf(i), i.metadata.name, status);
      // flush() never throws; it only sends sooner than the batch timer would.
      if (urgent) void reporter.flush();
    };
    const onEvent = (type: 'Normal' | 'Warning', reason: string, message: string): void =>
      this.opts.events?.emit({ kind: 'Instance', namespace: namespaceOf(inst), name: inst.metadata.name }, type, reason, message, inst.spec.service);
    const cpusets = inst.spec.runIn === 'warm' ? undefined : this.pinCores(inst, adopted ?? [], onEvent);
    const runner: Runner =
      inst.spec.runIn === 'warm'
        ? new WarmRunner({ instance: inst, pool: this.warm, driver, nodeName, hostIP, logger, files: this.opts.files, restartBackoff, onStatus, onEvent })
        : new InstanceRunner({
      hostPorts,
      dnsServers,
      instance: inst,
      driver,
      nodeName,
      hostIP,
      logger,
      adopted,
      restartBackoff,
      stopGraceSeconds,
      files: this.opts.files,
      onStatus,
      onEvent,
      cpusets,
      isolation: isolationOf(inst, cpusets, this.opts.procViews),
    });
    this.runners.set(uid, runner);
    logger.info({ namespace: inst.metadata.namespace, name: inst.metadata.name, uid, adopted: adopted?.length ?? 0 }, 'instance assigned to this node');
    runner.poke();
  }

  private remove(uid: string, runner: Runner, why: string): void {
    this.runners.delete(uid);
    const ns = runner.namespace;
    const name = runner.name;
    const containers = runner.containerNames;
    if (containers.length > 0) {
      const what = containers.length === 1 ? `container ${containers[0]!}` : `containers ${containers.join(', ')}`;
      this.opts.events?.emit({ kind: 'Instance', namespace: ns, name }, 'Normal', 'Killing', `stopping ${what}: ${why}`);
    }
    this.opts.reporter.forget(ns, name);
    const removal = runner
      .remove()
      .catch((e: unknown) => this.opts.logger.warn({ namespace: ns, name, err: describeError(e) }, 'instance removal failed'))
      .finally(() => {
        this.opts.cpusets?.releasePrefix(`${uid}/`);
        this.opts.reporter.forget(ns, name);
        if (this.removals.get(uid) === removal) this.removals.delete(uid);
      });
    this.removals.set(uid, removal);
  }

  /**
   * Cores for the instance's cpuset containers: those its adopted containers run on (after an
   * agent restart), else free ones. A shortage is an event; that container then fails to start
   * with a message naming cpuMode, and retries with back-off.
   */
  private pinCores(inst: Instance, adopted: readonly ContainerState[], onEvent: (type: 'Normal' | 'Warning', reason: string, message: string) => void): Record<string, string> | undefined {
    const wanted = inst.spec.containers.filter((c) => c.resources?.cpuMode === 'cpuset');
    if (wanted.length === 0) return undefined;
    const out: Record<string, string> = {};
    const allocator = this.opts.cpusets;
    for (const c of wanted) {
      const owner = `${inst.metadata.uid}/${c.name}`;
      if (!allocator) {
        onEvent('Warning', 'FailedCpuset', `container ${c.name} asks for cpuMode cpuset, which this node's driver does not offer`);
        continue;
      }
      const running = adopted.find((s) => s.container === c.name && s.cpuset);
      try {
        if (running?.cpuset && allocator.adopt(owner, parseCpuList(running.cpuset))) out[c.name] = running.cpuset;
        else out[c.name] = formatCpuList(allocator.allocate(owner, Math.max(1, Math.ceil((parseCpu(c.resources?.cpu ?? DEFAULT_CPU) ?? 1000) / 1000))));
      } catch (e) {
        onEvent('Warning', 'FailedCpuset', `container ${c.name}: ${describeError(e)}`);
      }
    }
    return out;
  }

  /** After a restart: which running containers this agent took over instead of starting anew. */
  private noteAdopted(adopted: readonly ContainerState[]): void {
    if (adopted.length === 0) return;
    const instances = new Set(adopted.map((s) => s.instance.uid)).size;
    this.opts.events?.emit(
      { kind: 'Node', name: this.opts.nodeName },
      'Normal',
      'Adopted',
      `adopted ${adopted.length} running container${adopted.length === 1 ? '' : 's'} of ${instances} instance${instances === 1 ? '' : 's'}`,
    );
  }

  /** Destroys the containers no runner and no removal in flight owns, each at most once at a time. */
  private async destroyOrphans(states: readonly ContainerState[]): Promise<void> {
    // Checked after the (awaited) listing, against the state of this moment.
    const orphans = states.filter((s) => !isWarmUid(s.instance.uid) && !this.runners.has(s.instance.uid) && !this.removals.has(s.instance.uid) && !this.orphansInFlight.has(s.id));
    for (const s of orphans) this.orphansInFlight.add(s.id);
    await Promise.all(orphans.map((s) => this.destroyUnwanted(s).finally(() => this.orphansInFlight.delete(s.id))));
  }

  private async destroyUnwanted(s: ContainerState): Promise<void> {
    const { driver, logger } = this.opts;
    // Gone since it was listed (its own runner removed it meanwhile): nothing to do, nothing to tell.
    if (!(await driver.inspect(s.id).catch(() => s))) return;
    logger.info({ id: s.id, namespace: s.instance.namespace, instance: s.instance.name, container: s.container }, 'removing container no instance wants');
    if (!(await removeContainer(driver, s.id, this.opts.stopGraceSeconds ?? 10, logger))) return;
    this.opts.hostPorts?.release(Object.values(s.hostPorts));
    this.opts.events?.emit(
      { kind: 'Node', name: this.opts.nodeName },
      'Normal',
      'RemovedOrphan',
      `removed container ${s.id.slice(0, 12)} (labelled for instance ${s.instance.namespace}/${s.instance.name}, which no longer exists)`,
    );
  }
}

/** A running container as the stats sampler labels it. */
export interface LiveContainer {
  namespace: string;
  instance: string;
  service: string;
  container: string;
  id: string;
  /** The instance's summed requests (millicores, bytes): what usage is shown beside. */
  requests: { cpuMillis: number; memoryBytes: number };
}

/** status.isolation: the pinned cores, and whether lxcfs' /proc views are mounted (not with hostPID). */
function isolationOf(inst: Instance, cpusets: Readonly<Record<string, string>> | undefined, procViews: boolean | undefined): InstanceStatus['isolation'] {
  const cores = Object.values(cpusets ?? {});
  const cpuset = cores.length > 0 ? formatCpuList(parseCpuList(cores.join(','))) : undefined;
  if (cpuset === undefined && procViews === undefined) return undefined;
  return { ...(cpuset !== undefined ? { cpuset } : {}), ...(procViews !== undefined ? { procViews: procViews && inst.spec.hostPID !== true } : {}) };
}
