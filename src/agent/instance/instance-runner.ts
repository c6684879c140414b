// One instance's containers on this node, level-triggered: every reconcile() re-reads the driver
// and takes the smallest step towards spec.containers (create in order, start, restart after
// back-off), then reports status. Pokes collapse: at most one pass runs, and one more follows if
// something changed meanwhile. See README.md for the state diagram.
import type { Logger } from 'pino';
import { describeError, namespaceOf, type Instance, type InstanceStatus } from '../../core/index.js';
import type { ContainerState, Driver } from '../../drivers/driver.js';
import { buildInitLaunch } from './container-launch.js';
import { FileGate, type FileSource } from './file-gate.js';
import { InitPhase } from './init-phase.js';
import { scratchVolumeName } from './scratch-volume.js';
import { adoptContainers, applyExit, hasExited, hasFailed, newSlot, slotView, syncHealth, type Slot } from './container-slot.js';
import { HealthChecker } from './health-checker.js';
import type { HostPortAllocator } from './host-ports.js';
import { InstancePorts } from './instance-ports.js';
import { ImageGate } from './image-gate.js';
import { PodLauncher } from './pod-launcher.js';
import { removeContainer } from './remove-container.js';
import { listNames, seconds, stoppedCleanly, terminationOf, wasKilled, type Termination } from './stop-sequence.js';
import { buildInstanceStatus, type StatusInput } from './instance-status.js';
import { DEFAULT_BACKOFF, RestartBackoff, type BackoffOptions } from './restart-backoff.js';
import type { Runner } from './runner.js';
import { RunnerDriver } from './runner-driver.js';
import { backOffMessage, notRestartingMessage, unhealthyMessage, type RunnerEventSink } from './runner-events.js';
import { WakeTimer } from './wake-timer.js';

export interface InstanceRunnerOptions {
  instance: Instance;
  driver: Driver;
  nodeName: string;
  /** The node address: GANTRY_HOST_IP and status.hostIP. */
  hostIP: string;
  logger: Logger;
  /** Containers found at agent start that carry this instance's uid: kept exactly as they are. */
  adopted?: readonly ContainerState[] | undefined;
  restartBackoff?: BackoffOptions | undefined;
  /** Grace before SIGKILL when stopping; default 10 s. */
  stopGraceSeconds?: number | undefined;
  /** `urgent`: send it now, not with the next batch (a stopping instance turning not ready). */
  onStatus: (instance: Instance, status: InstanceStatus, urgent?: boolean) => void;
  /** Events about this instance (Started, BackOff, Unhealthy ...). */
  onEvent?: RunnerEventSink | undefined;
  /** Where config file contents come from (the agent's client); needed by instances with configFiles. */
  files?: FileSource | undefined;
  /** Picks the instance's host ports before its first container exists; absent: Docker picks them. */
  hostPorts?: HostPortAllocator | undefined;
  /** Name servers written into the containers' resolv.conf (--dns-for-containers). */
  dnsServers?: readonly string[] | undefined;
  /** cpuMode cpuset: container name -> the cores pinned for it (the supervisor allocated them). */
  cpusets?: Readonly<Record<string, string>> | undefined;
  /** Reported in status.isolation: the pinned cores and whether lxcfs' /proc views are mounted. */
  isolation?: InstanceStatus['isolation'] | undefined;
}

export class InstanceRunner implements Runner {
  private instance: Instance;
  private readonly slots: Slot[];
  private readonly strays: ContainerState[] = [];
  /** Set once spec.stop was seen: when (local clock; the drain delay counts from here). */
  private stopSeenAt: number | undefined;
  private readonly images: ImageGate;
  private readonly errorBackoff: RestartBackoff;
  private pending: StatusInput['pending'];
  private terminal: StatusInput['terminal'];
  private startedAt: string | undefined;
  private dirty = false;
  private loop: Promise<void> | undefined;
  /**
   * Fires on remove() or detach(). From then on a pass touches no container: every driver call
   * of a pass goes through `driver`, which throws once it fired (runner-driver.ts), and the pass
   * ends there. remove() destroys what exists once the pass ended; detach() leaves it.
   */
  private readonly closing = new AbortController();
  private readonly signal = this.closing.signal;
  private readonly driver: RunnerDriver;
  private readonly pod: PodLauncher;
  private readonly wake = new WakeTimer(() => this.poke(), this.signal);
  private readonly log: Logger;
  private readonly grace: number;
  private readonly files: FileGate;
  /** Init containers, when the spec has any; they finish before the main containers are created. */
  private readonly init: InitPhase | undefined;
  /** The per-instance volume init and main containers share (only with init containers). */
  private readonly scratch: string | undefined;
  private readonly ports: InstancePorts;

  constructor(private readonly opts: InstanceRunnerOptions) {
    this.instance = opts.instance;
    const { namespace, name, uid } = opts.instance.metadata;
    this.log = opts.logger.child({ namespace, name, uid });
    this.grace = opts.stopGraceSeconds ?? 10;
    this.driver = new RunnerDriver(opts.driver, this.signal, this.log);
    const backoff = opts.restartBackoff ?? DEFAULT_BACKOFF;
    this.images = new ImageGate(opts.driver, backoff, this.log, (problem, error) => this.event('Warning', problem.reason, error));
    this.errorBackoff = new RestartBackoff(backoff);
    this.files = new FileGate(opts.files, backoff, this.log, (problem) => this.event('Warning', problem.reason, problem.message));
    const initSpecs = opts.instance.spec.initContainers ?? [];
    this.scratch = initSpecs.length > 0 ? scratchVolumeName(uid) : undefined;
    this.init =
      initSpecs.length > 0
        ? new InitPhase({
            specs: initSpecs,
            driver: this.driver,
            backoff,
            log: this.log,
            onEvent: (type, reason, message) => this.event(type, reason, message),
            create: (spec) => this.pod.createContainer(buildInitLaunch(this.instance, spec, { nodeName: opts.nodeName, hostIP: opts.hostIP, cpusets: opts.cpusets })),
            destroy: (id) => this.driver.remove(id, this.termination),
            signal: this.signal,
          })
        : undefined;
    const allPorts = opts.instance.spec.containers.flatMap((c) => c.ports ?? []);
    this.slots = opts.instance.spec.containers.map((spec, index) => {
      const slot = newSlot(spec, index, backoff);
      if (spec.healthCheck) {
        slot.health = new HealthChecker({
          driver: opts.driver,
          check: spec.healthCheck,
          ports: allPorts,
          // Ports are published on the first container, which owns the network namespace.
          target: () => slot.state && { ...slot.state, hostPorts: this.slots[0]?.state?.hostPorts ?? {}, hostIP: this.slots[0]?.state?.hostIP },
          onChange: () => this.publish(),
          onUnhealthy: (message, failures, reason) => void this.judgeUnhealthy(slot, message, failures, reason),
          logger: this.log.child({ container: spec.name }),
        });
      }
      return slot;
    });
    this.ports = new InstancePorts(opts.instance, opts.hostPorts);
    this.pod = new PodLauncher({
      slots: this.slots,
      driver: this.driver,
      discard: (id) => this.discard(id),
      signal: this.signal,
      ports: this.ports,
      files: this.files,
      scratch: this.scratch,
      log: this.log,
      onEvent: (type, reason, message) => this.event(type, reason, message),
      instance: () => this.instance,
      termination: () => this.termination,
      context: { nodeName: opts.nodeName, hostIP: opts.hostIP, dnsServers: opts.dnsServers, cpusets: opts.cpusets },
    });
    this.adopt(opts.adopted ?? []);
    this.ports.keepKnown(this.slots[0]?.state?.hostPorts);
  }

  get uid(): string {
    return this.instance.metadata.uid;
  }

  get namespace(): string {
    return namespaceOf(this.instance);
  }

  get name(): string {
    return this.instance.metadata.name;
  }

  /** Whether a container id belongs to this instance (for routing driver events and logs). */
  owns(id: string): boolean {
    return this.slots.some((s) => s.id === id) || this.strays.some((s) => s.id === id) || this.pod.retired.some((r) => r.id === id) || this.init?.owns(id) === true;
  }

  /** Its containers' logs are the driver's: it keeps none of its own. */
  keptLog(): undefined {
    return undefined;
  }

  /** Finished for good (Succeeded, Failed, Stopped): its exited containers are only kept for their logs. */
  get finished(): boolean {
    return this.terminal !== undefined;
  }

  /** The dead-container GC removed this container: forget it (a finished slot's, or a retired one). */
  forgetContainer(id: string): void {
    const retired = this.pod.retired;
    const i = retired.findIndex((r) => r.id === id);
    if (i >= 0) retired.splice(i, 1);
    for (const s of this.slots) {
      if (s.id === id && !s.state?.running && this.terminal) {
        s.id = undefined;
        this.publish();
      }
    }
  }

  /**
   * The runtime answers again after an outage: whatever the health checks concluded while it was
   * away is not trusted (probes may have failed because of the outage, not the container), so
   * checks start afresh, keeping each container's current readiness, and a pass re-reads state.
   */
  runtimeRecovered(): void {
    if (this.signal.aborted) return;
    for (const s of this.slots) {
      s.unhealthy = undefined;
      if (s.health && s.healthFor !== undefined && s.state?.running && this.stopSeenAt === undefined) s.health.start(s.health.healthy);
    }
    this.errorBackoff.reset();
    this.poke();
  }

  liveContainers(): { container: string; id: string }[] {
    return this.slots.flatMap((s) => (s.id !== undefined && s.state?.running ? [{ container: s.spec.name, id: s.id }] : []));
  }

  /** The instance as last seen (its labels and requests, for stats). */
  get current(): Instance {
    return this.instance;
  }

  /**
   * The runtime stopped answering (dockerd restarting with live-restore): probes now fail because
   * of the outage, not the container, so checks pause and no restart decided on them is carried
   * out. runtimeRecovered() starts them again.
   */
  runtimeLost(): void {
    for (const s of this.slots) {
      s.unhealthy = undefined;
      s.health?.stop();
    }
  }

  /**
   * A health check failed `retries` times. Restart only if the runtime answers: a probe that failed
   * because dockerd is away (its port proxy with it) says nothing about the container, and a
   * restart queued during an outage would kill a live-restored container the moment dockerd is
   * back. If the runtime does not answer, probing starts again (the runtime monitor pauses it).
   */
  private async judgeUnhealthy(slot: Slot, message: string, failures: number, reason: string): Promise<void> {
    try {
      await this.driver.ping();
    } catch (e) {
      this.log.info({ container: slot.spec.name, err: describeError(e) }, 'health check failed while the runtime does not answer; not restarting');
      if (!this.signal.aborted && slot.state?.running) slot.health?.start(false);
      return;
    }
    if (this.signal.aborted) return;
    slot.unhealthy = message;
    this.event('Warning', 'Unhealthy', unhealthyMessage(slot, failures, reason, this.instance.spec.restartPolicy));
    this.poke();
  }

  /** Names of the containers that still run (or may: state not read yet), what removing the instance kills. */
  get containerNames(): string[] {
    return this.slots.filter((s) => s.id !== undefined && s.state?.running !== false).map((s) => s.spec.name);
  }

  /**
   * A newer revision of the same instance, for its spec (a stop request) and labels. Its status is
   * as of the last change that was not status only (the agent's watch leaves those out): read the
   * status only at creation (adoption, known host ports), from the list or the first event.
   */
  update(instance: Instance): void {
    this.instance = instance;
    // A stop request is the one spec change an instance gets.
    if (instance.spec.stop && this.stopSeenAt === undefined) this.poke();
  }

  /** Asks for a reconcile soon; cheap and safe to call often. */
  poke(): void {
    if (this.signal.aborted) return;
    this.dirty = true;
    this.loop ??= this.drain().finally(() => {
      this.loop = undefined;
    });
  }

  /** The instance is no longer wanted here: stop (with grace) and destroy its containers. */
  async remove(): Promise<void> {
    this.detach();
    await this.loop;
    const ids = [...this.slots.map((s) => s.id), ...this.strays.map((s) => s.id), ...this.pod.retired.map((r) => r.id), ...(this.init?.ids ?? [])].filter((id): id is string => id !== undefined);
    await Promise.all(ids.map((id) => this.discard(id)));
    if (this.scratch) {
      await this.opts.driver.removeVolume(this.scratch).catch((e: unknown) => this.log.warn({ volume: this.scratch, err: describeError(e) }, 'could not remove the scratch volume'));
    }
    this.ports.releaseAll();
    this.log.info({ containers: ids.length }, 'instance removed');
  }

  /** The agent is stopping: leave every container exactly as it is. */
  detach(): void {
    this.closing.abort();
    for (const s of this.slots) s.health?.stop();
  }

  /** Resolves once no reconcile pass runs (after detach(), none starts again). */
  async idle(): Promise<void> {
    await this.loop;
  }

  private adopt(all: readonly ContainerState[]): void {
    for (const s of all) if (s.retired) this.pod.retired.push({ id: s.id, container: s.container });
    const live = all.filter((s) => !s.retired);
    const found = this.init ? this.init.adopt(live) : live;
    // Main containers exist: the init containers ran to completion before them.
    if (this.init && found.some((st) => this.slots.some((s) => s.spec.name === st.container))) this.init.markDone();
    const strays = adoptContainers(this.slots, found, this.instance.status?.containers ?? [], this.instance.status?.ready === true);
    this.strays.push(...strays);
    if (found.length > 0) this.log.info({ adopted: found.length - strays.length, strays: strays.length }, 'adopted existing containers');
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.signal.aborted) {
      this.dirty = false;
      try {
        await this.reconcile();
        this.errorBackoff.reset();
      } catch (e) {
        // Closed during the pass: cancellation, not a failure.
        if (this.signal.aborted) return;
        const delay = this.errorBackoff.next();
        this.log.warn({ err: describeError(e), retryInMs: delay }, 'reconcile failed; will retry');
        this.wake.at(Date.now() + delay);
      }
    }
  }

  private async reconcile(): Promise<void> {
    // Every driver call below throws once remove()/detach() closed the runner (runner-driver.ts),
    // which ends the pass. A stray leaves the list only once destroyed, so remove() sees the rest.
    for (let stray = this.strays[0]; stray; stray = this.strays[0]) {
      await this.driver.remove(stray.id, this.termination);
      this.strays.shift();
    }
    if (this.terminal) return this.publish();
    const stop = this.instance.spec.stop;
    if (stop) return this.reconcileStop(stop.reason);
    for (const slot of this.slots) if (slot.id) await this.observe(slot);
    const t = this.termination;
    for (const slot of this.slots) {
      if (slot.unhealthy && slot.id && slot.state?.running) {
        await this.driver.stop(slot.id, t);
        slot.killedByHealth = true;
        await this.observe(slot);
      }
      slot.unhealthy = undefined;
    }
    const now = Date.now();
    for (const slot of this.slots) if (!slot.done && slot.restartAt === undefined && hasExited(slot)) this.onExit(slot, now);
    if (await this.checkFinished()) return this.publish();
    if (!(await this.ensureImages(now))) return this.publish();
    if (!(await this.prepareStart(now))) {
      this.publish();
      return this.scheduleNextWake();
    }
    await this.pod.launchInOrder(now);
    // A pass that made no driver call since the runner closed must not start health checks.
    this.signal.throwIfAborted();
    for (const slot of this.slots) syncHealth(slot);
    this.publish();
    this.scheduleNextWake();
  }

  private get termination(): Termination {
    return terminationOf(this.instance, this.grace);
  }

  /**
   * spec.stop: not ready at once (sent now, not batched: discovery drops it), then the drain
   * delay, the stop signal, the grace period, SIGKILL; never a restart. Ends Succeeded (every
   * container exited cleanly or of the stop signal) or Failed, reason Stopped. The containers
   * stay (their logs readable) until the owner deletes the Instance.
   */
  private async reconcileStop(why: string): Promise<void> {
    const t = this.termination;
    const first = this.stopSeenAt === undefined;
    if (first) {
      this.stopSeenAt = Date.now();
      for (const s of this.slots) {
        s.health?.stop();
        s.healthFor = undefined;
        s.restartAt = undefined;
      }
      this.wake.cancel();
      this.publish(true);
    }
    for (const slot of this.slots) if (slot.id) await this.observe(slot, false);
    let running = this.slots.filter((s) => s.id && s.state?.running);
    const drainEnd = (this.stopSeenAt ?? Date.now()) + t.drainDelaySeconds * 1000;
    if (running.length > 0 && Date.now() < drainEnd) {
      if (first) {
        this.log.info({ reason: why, drainDelaySeconds: t.drainDelaySeconds }, 'stop requested; draining');
        this.event('Normal', 'Draining', `not ready from now on; stopping ${listNames(running.map((s) => s.spec.name))} in ${seconds(t.drainDelaySeconds)} (drain delay): ${why}`);
      }
      this.publish();
      this.wake.at(drainEnd);
      return;
    }
    if (running.length > 0) {
      const names = running.map((s) => s.spec.name);
      this.log.info({ reason: why, signal: t.stopSignal, gracePeriodSeconds: t.gracePeriodSeconds }, 'stopping containers');
      this.event('Normal', 'Stopping', `sending ${t.stopSignal} to ${listNames(names)}; SIGKILL after ${seconds(t.gracePeriodSeconds)} (grace period): ${why}`);
      await Promise.all(running.map((s) => this.driver.stop(s.id!, t)));
      for (const slot of running) await this.observe(slot, false);
      // A ghost survives any signal: only a forced removal ends it.
      for (const slot of running.filter((s) => s.state?.ghost)) {
        await this.driver.remove(slot.id!, t);
        slot.state = { ...slot.state!, running: false, exitCode: 137, ghost: undefined };
      }
      const killed = running.filter((s) => wasKilled(s.state?.exitCode, t.stopSignal)).map((s) => s.spec.name);
      if (killed.length > 0) {
        this.event('Warning', 'Killing', `${listNames(killed)} did not exit within ${seconds(t.gracePeriodSeconds)} of ${t.stopSignal}; killed (SIGKILL)`);
      }
      running = [];
    }
    const unclean = this.slots.filter((s) => s.state && !s.state.running && s.state.startedAt !== undefined && !stoppedCleanly(s.state.exitCode, t.stopSignal));
    const codes = this.slots.filter((s) => s.state?.exitCode !== undefined).map((s) => `${s.spec.name} exited with code ${s.state!.exitCode!}`);
    this.terminal = {
      phase: unclean.length === 0 ? 'Succeeded' : 'Failed',
      reason: 'Stopped',
      message: `stopped: ${why}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`,
    };
    // The owner deletes a stopped instance within a second or two: the event is what stays visible.
    this.event(unclean.length === 0 ? 'Normal' : 'Warning', 'Stopped', `phase ${this.terminal.phase}: ${this.terminal.message ?? ''}`);
    this.log.info({ phase: this.terminal.phase, reason: why }, 'instance stopped');
    this.publish(true);
  }

  /** Re-reads one container; a ghost is repaired (unless `repair` is false: a stop deals with it). */
  private async observe(slot: Slot, repair = true): Promise<void> {
    if (!slot.id) return;
    const st = await this.driver.inspect(slot.id);
    if (st?.ghost && repair) {
      // Docker calls it running, but nothing runs: it can be neither stopped nor trusted. Remove
      // it by force; the restart policy (with back-off) then starts a new one.
      this.log.warn({ container: slot.spec.name, id: slot.id, ghost: st.ghost }, 'ghost container; removing it by force');
      this.event('Warning', 'GhostRepaired', `container ${slot.spec.name} (id ${slot.id.slice(0, 12)}) was a ghost: ${st.ghost}; removed it by force, a new one replaces it`);
      await this.driver.destroy(slot.id);
      slot.id = undefined;
      slot.state = { ...st, running: false, exitCode: undefined, ghost: undefined };
      return;
    }
    if (st) {
      slot.state = st;
      return;
    }
    // Removed behind our back: treat as an exit with no code, so the restart policy applies.
    this.log.warn({ container: slot.spec.name, id: slot.id }, 'container disappeared');
    slot.id = undefined;
    slot.state = slot.state ? { ...slot.state, running: false, exitCode: undefined } : undefined;
  }

  private onExit(slot: Slot, now: number): void {
    const policy = this.instance.spec.restartPolicy;
    const decision = applyExit(slot, policy, now);
    const exitCode = slot.state?.exitCode;
    if (decision === 'done') {
      this.log.info({ container: slot.spec.name, exitCode }, 'container exited; not restarting (restart policy)');
      if (hasFailed(slot)) this.event('Warning', 'Failed', notRestartingMessage(slot, policy));
      else this.event('Normal', 'Completed', `container ${slot.spec.name} exited with code 0`);
      return;
    }
    const delay = (slot.restartAt ?? now) - now;
    this.log.info({ container: slot.spec.name, exitCode, restartInMs: delay }, 'container exited; restarting after back-off');
    this.event('Warning', 'BackOff', backOffMessage(slot, delay));
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.signal.aborted) this.opts.onEvent?.(type, reason, message);
  }

  /** OnFailure/Never: decides Succeeded or Failed, and stops what still runs of a failed instance. */
  private async checkFinished(): Promise<boolean> {
    if (this.instance.spec.restartPolicy === 'Always') return false;
    const failedSlot = this.slots.find((s) => s.done && hasFailed(s));
    if (!failedSlot && !this.slots.every((s) => s.done)) return false;
    this.terminal = failedSlot
      ? { phase: 'Failed', reason: 'ContainerFailed', message: `container "${failedSlot.spec.name}" ${failedSlot.message ?? 'failed'}` }
      : { phase: 'Succeeded', reason: 'Completed', message: 'all containers exited with code 0' };
    for (const s of this.slots) {
      s.health?.stop();
      if (s.id && s.state?.running) await this.driver.stop(s.id, this.termination);
      await this.observe(s);
    }
    this.log.info({ phase: this.terminal.phase }, 'instance finished');
    return true;
  }

  /**
   * What must be ready before a main container is created: the config files (fetched once), the
   * scratch volume and every init container run to completion. False while one is not.
   */
  private async prepareStart(now: number): Promise<boolean> {
    if (this.slots.every((s) => s.id || s.done)) return true;
    if (!(await this.files.ensure(this.instance, now))) return false;
    if (!this.init || this.init.done) return true;
    if (this.scratch) await this.driver.ensureVolume(this.scratch, { namespace: this.namespace, name: this.name, uid: this.uid });
    const step = await this.init.step(now, this.instance.spec.restartPolicy);
    if (step === 'failed') {
      this.terminal = { phase: 'Failed', reason: 'InitFailed', message: this.init.pending()?.message ?? 'an init container failed' };
      this.log.info({ phase: 'Failed' }, 'instance finished: init container failed');
    }
    return step === 'done';
  }

  /** Pulls (only when absent) the images of containers about to be created; false while one is missing. */
  private async ensureImages(now: number): Promise<boolean> {
    const toCreate = this.slots.filter((s) => !s.id && !s.done);
    const initImages = this.init && !this.init.done && toCreate.length > 0 ? (this.instance.spec.initContainers ?? []).map((c) => c.image) : [];
    const ok = await this.images.ensure([...initImages, ...toCreate.map((s) => s.spec.image)], now);
    const problem = this.images.problem;
    this.pending = problem && { reason: problem.reason, message: problem.message };
    for (const s of toCreate) {
      if (s.spec.image === problem?.image) s.message = problem.message;
      else if (s.restartAt === undefined) s.message = undefined;
    }
    if (!ok) this.scheduleNextWake();
    return ok;
  }

  /** Removes a container even after the runner closed: the cleanup that must not be skipped. */
  private async discard(id: string): Promise<void> {
    const t = this.termination;
    await removeContainer(this.opts.driver, id, t.gracePeriodSeconds, this.log, t.stopSignal);
  }

  private scheduleNextWake(): void {
    const times = [this.images.retryAt, this.files.retryAt, this.init?.retryAt, ...this.slots.map((s) => s.restartAt)].filter((t): t is number => t !== undefined);
    if (times.length > 0) this.wake.at(Math.min(...times));
  }

  private publish(urgent = false): void {
    if (this.signal.aborted) return;
    const containers = this.slots.map(slotView);
    if (!this.startedAt && containers.every((c) => c.state?.running)) this.startedAt = new Date().toISOString();
    const { nodeName, hostIP } = this.opts;
    const stop = this.instance.spec.stop;
    const stopping = stop && this.stopSeenAt !== undefined && !this.terminal ? { reason: 'Stopping', message: `stopping: ${stop.reason}` } : undefined;
    const pending = this.pending ?? this.files.problem ?? this.init?.pending();
    const initContainers = this.init?.statuses();
    this.opts.onStatus(
      this.instance,
      buildInstanceStatus({ nodeName, hostIP, containers, pending, stopping, terminal: this.terminal, startedAt: this.startedAt, initContainers, isolation: this.opts.isolation }),
      urgent,
    );
  }
}
