// One instance's containers on this node, level-triggered: every reconcile() re-reads the driver
// and takes the smallest step towards spec.containers (create in order, start, restart after
// back-off), then reports status. Pokes collapse: at most one pass runs, and one more follows if
// something changed meanwhile. See README.md for the state diagram.
import type { Logger } from 'pino';
import { describeError, type Instance, type InstanceStatus } from '../core/index.js';
import type { ContainerState, Driver } from '../drivers/driver.js';
import { buildLaunch } from './container-launch.js';
import { adoptContainers, applyExit, hasExited, hasFailed, newSlot, slotView, syncHealth, type Slot } from './container-slot.js';
import { HealthChecker } from './health-checker.js';
import type { HostPortAllocator } from './host-ports.js';
import { InstancePorts } from './instance-ports.js';
import { ImageGate } from './image-gate.js';
import { removeContainer } from './remove-container.js';
import { buildInstanceStatus, type StatusInput } from './instance-status.js';
import { DEFAULT_BACKOFF, RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';
import { backOffMessage, notRestartingMessage, startedMessage, unhealthyMessage, type RunnerEventSink } from './runner-events.js';
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
  onStatus: (instance: Instance, status: InstanceStatus) => void;
  /** Events about this instance (Started, BackOff, Unhealthy ...). */
  onEvent?: RunnerEventSink | undefined;
  /** Picks the instance's host ports before its first container exists; absent: Docker picks them. */
  hostPorts?: HostPortAllocator | undefined;
  /** Name servers written into the containers' resolv.conf (--dns-for-containers). */
  dnsServers?: readonly string[] | undefined;
}

export class InstanceRunner {
  private instance: Instance;
  private readonly slots: Slot[];
  private readonly strays: ContainerState[] = [];
  private readonly images: ImageGate;
  private readonly errorBackoff: RestartBackoff;
  private pending: StatusInput['pending'];
  private terminal: StatusInput['terminal'];
  private startedAt: string | undefined;
  private dirty = false;
  private loop: Promise<void> | undefined;
  private closed = false;
  private readonly wake = new WakeTimer(() => this.poke());
  private readonly log: Logger;
  private readonly grace: number;
  private readonly ports: InstancePorts;

  constructor(private readonly opts: InstanceRunnerOptions) {
    this.instance = opts.instance;
    const { namespace, name, uid } = opts.instance.metadata;
    this.log = opts.logger.child({ namespace, name, uid });
    this.grace = opts.stopGraceSeconds ?? 10;
    const backoff = opts.restartBackoff ?? DEFAULT_BACKOFF;
    this.images = new ImageGate(opts.driver, backoff, this.log, (problem, error) => this.event('Warning', problem.reason, error));
    this.errorBackoff = new RestartBackoff(backoff);
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
          onUnhealthy: (message, failures, reason) => {
            slot.unhealthy = message;
            this.event('Warning', 'Unhealthy', unhealthyMessage(slot, failures, reason, this.instance.spec.restartPolicy));
            this.poke();
          },
          logger: this.log.child({ container: spec.name }),
        });
      }
      return slot;
    });
    this.adopt(opts.adopted ?? []);
    this.ports = new InstancePorts(opts.instance, opts.hostPorts);
    this.ports.keepKnown(this.slots[0]?.state?.hostPorts);
  }

  get uid(): string {
    return this.instance.metadata.uid;
  }

  get namespace(): string {
    return this.instance.metadata.namespace ?? 'default';
  }

  get name(): string {
    return this.instance.metadata.name;
  }

  /** Whether a container id belongs to this instance (for routing driver events and logs). */
  owns(id: string): boolean {
    return this.slots.some((s) => s.id === id) || this.strays.some((s) => s.id === id);
  }

  /** Names of the containers that exist now (what removing the instance stops). */
  get containerNames(): string[] {
    return this.slots.filter((s) => s.id !== undefined).map((s) => s.spec.name);
  }

  /** A newer revision of the same instance (status updates mostly): kept for reports. */
  update(instance: Instance): void {
    this.instance = instance;
  }

  /** Asks for a reconcile soon; cheap and safe to call often. */
  poke(): void {
    if (this.closed) return;
    this.dirty = true;
    this.loop ??= this.drain().finally(() => {
      this.loop = undefined;
    });
  }

  /** The instance is no longer wanted here: stop (with grace) and destroy its containers. */
  async remove(): Promise<void> {
    this.detach();
    await this.loop;
    const ids = [...this.slots.map((s) => s.id), ...this.strays.map((s) => s.id)].filter((id): id is string => id !== undefined);
    await Promise.all(ids.map((id) => this.destroy(id)));
    this.ports.releaseAll();
    this.log.info({ containers: ids.length }, 'instance removed');
  }

  /** The agent is stopping: leave every container exactly as it is. */
  detach(): void {
    this.closed = true;
    this.wake.cancel();
    for (const s of this.slots) s.health?.stop();
  }

  /** Resolves once no reconcile pass runs (after detach(), none starts again). */
  async idle(): Promise<void> {
    await this.loop;
  }

  private adopt(found: readonly ContainerState[]): void {
    const strays = adoptContainers(this.slots, found, this.instance.status?.containers ?? [], this.instance.status?.ready === true);
    this.strays.push(...strays);
    if (found.length > 0) this.log.info({ adopted: found.length - strays.length, strays: strays.length }, 'adopted existing containers');
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.reconcile();
        this.errorBackoff.reset();
      } catch (e) {
        const delay = this.errorBackoff.next();
        this.log.warn({ err: describeError(e), retryInMs: delay }, 'reconcile failed; will retry');
        if (!this.closed) this.wake.at(Date.now() + delay);
      }
    }
  }

  private async reconcile(): Promise<void> {
    // Every await below may return to a runner that remove()/detach() closed meanwhile: from then
    // on it must not touch a container (remove() destroys what exists once this pass ends).
    // A stray leaves the list only once destroyed, so remove() still sees the rest.
    for (let stray = this.strays[0]; stray && !this.closed; stray = this.strays[0]) {
      await this.destroy(stray.id);
      this.strays.shift();
    }
    if (this.closed) return;
    if (this.terminal) return this.publish();
    for (const slot of this.slots) if (slot.id && !this.closed) await this.observe(slot);
    for (const slot of this.slots) {
      if (this.closed) return;
      if (slot.unhealthy && slot.id && slot.state?.running) {
        await this.opts.driver.stop(slot.id, this.grace);
        slot.killedByHealth = true;
        await this.observe(slot);
      }
      slot.unhealthy = undefined;
    }
    if (this.closed) return;
    const now = Date.now();
    for (const slot of this.slots) if (!slot.done && slot.restartAt === undefined && hasExited(slot)) this.onExit(slot, now);
    if (await this.checkFinished()) return this.publish();
    if (this.closed || !(await this.ensureImages(now))) return this.publish();
    if (this.closed) return;
    await this.launchInOrder(now);
    if (this.closed) return;
    for (const slot of this.slots) syncHealth(slot);
    this.publish();
    this.scheduleNextWake();
  }

  private async observe(slot: Slot): Promise<void> {
    if (!slot.id) return;
    const st = await this.opts.driver.inspect(slot.id);
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
    if (!this.closed) this.opts.onEvent?.(type, reason, message);
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
      if (this.closed) continue;
      if (s.id && s.state?.running) await this.opts.driver.stop(s.id, this.grace);
      await this.observe(s);
    }
    this.log.info({ phase: this.terminal.phase }, 'instance finished');
    return true;
  }

  /** Pulls (only when absent) the images of containers about to be created; false while one is missing. */
  private async ensureImages(now: number): Promise<boolean> {
    const toCreate = this.slots.filter((s) => !s.id && !s.done);
    const ok = await this.images.ensure(toCreate.map((s) => s.spec.image), now);
    const problem = this.images.problem;
    this.pending = problem && { reason: problem.reason, message: problem.message };
    for (const s of toCreate) {
      if (s.spec.image === problem?.image) s.message = problem.message;
      else if (s.restartAt === undefined) s.message = undefined;
    }
    if (!ok) this.scheduleNextWake();
    return ok;
  }

  private async launchInOrder(now: number): Promise<void> {
    const first = this.slots[0];
    for (const slot of this.slots) {
      if (this.closed) return;
      if (slot.done || slot.state?.running) continue;
      // Containers after the first join its network namespace: it must run first.
      if (slot.index > 0 && !first?.state?.running) return;
      if (slot.restartAt !== undefined && now < slot.restartAt) continue;
      await this.launch(slot, first?.id, now);
    }
  }

  private async launch(slot: Slot, networkOf: string | undefined, now: number): Promise<void> {
    const driver = this.opts.driver;
    try {
      if (!slot.id) {
        await this.ports.ensure(() => this.closed);
        if (this.closed) return;
        const ctx = { nodeName: this.opts.nodeName, hostIP: this.opts.hostIP, hostPorts: this.ports.current, dnsServers: this.opts.dnsServers };
        const launch = buildLaunch(this.instance, slot.index, ctx, networkOf);
        const id = await driver.create(launch);
        if (this.closed) {
          // Removed (or the agent stopped) while Docker created it: it must never start.
          await this.destroy(id);
          return;
        }
        slot.id = id;
        slot.startedByUs = false;
      }
      slot.state = await driver.start(slot.id);
      slot.startedByUs = true;
    } catch (e) {
      // A container that will not start is replaced on the next attempt.
      if (slot.id) await this.destroy(slot.id);
      if (slot.index === 0) this.ports.onLaunchError(describeError(e));
      slot.id = undefined;
      slot.state = undefined;
      const delay = slot.backoff.next();
      slot.restartAt = now + delay;
      slot.message = `${describeError(e)}; back-off ${formatDelay(delay)}`;
      this.log.warn({ container: slot.spec.name, err: describeError(e), retryInMs: delay }, 'container failed to start');
      this.event('Warning', 'FailedStart', `could not start container ${slot.spec.name}: ${describeError(e)}`);
      return;
    }
    // Started just as it was closed: remove() destroys it (slot.id is set); nothing more here.
    if (this.closed) return;
    if (slot.everRan) slot.restartCount++;
    slot.everRan = true;
    slot.restartAt = undefined;
    slot.killedByHealth = false;
    slot.message = undefined;
    this.log.info({ container: slot.spec.name, id: slot.id, restartCount: slot.restartCount }, 'container started');
    this.event('Normal', 'Started', startedMessage(slot));
    if (slot.index === 0) await this.recreatePodMembers();
  }

  /** The first container got a new network namespace: the others must join the new one. */
  private async recreatePodMembers(): Promise<void> {
    for (const s of this.slots.slice(1)) {
      if (this.closed) return;
      if (!s.id || s.done) continue;
      s.health?.stop();
      s.healthFor = undefined;
      await this.destroy(s.id);
      s.id = undefined;
      s.state = undefined;
    }
  }

  private async destroy(id: string): Promise<void> {
    await removeContainer(this.opts.driver, id, this.grace, this.log);
  }

  private scheduleNextWake(): void {
    const times = [this.images.retryAt, ...this.slots.map((s) => s.restartAt)].filter((t): t is number => t !== undefined);
    if (times.length > 0 && !this.closed) this.wake.at(Math.min(...times));
  }

  private publish(): void {
    if (this.closed) return;
    const containers = this.slots.map(slotView);
    if (!this.startedAt && containers.every((c) => c.state?.running)) this.startedAt = new Date().toISOString();
    const { nodeName, hostIP } = this.opts;
    this.opts.onStatus(this.instance, buildInstanceStatus({ nodeName, hostIP, containers, pending: this.pending, terminal: this.terminal, startedAt: this.startedAt }));
  }
}
