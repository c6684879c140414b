// Creates and starts an instance's main containers in order: index 0 owns the network namespace
// and publishes every port, the others join it (`networkOf`), so they start only once it runs.
// A container that will not start is destroyed and tried again after back-off. When index 0
// starts again the others are recreated to join the new namespace; each replaced container is
// kept, dead, for its logs (one per container name) until the dead-container GC removes it.
import type { Logger } from 'pino';
import { describeError, type Instance } from '../../core/index.js';
import type { ContainerLaunch } from '../../drivers/driver.js';
import { buildLaunch, type LaunchContext } from './container-launch.js';
import type { Slot } from './container-slot.js';
import type { FileGate } from './file-gate.js';
import type { InstancePorts } from './instance-ports.js';
import { formatDelay } from './restart-backoff.js';
import type { RunnerDriver } from './runner-driver.js';
import { startedMessage, type RunnerEventSink } from './runner-events.js';
import { SCRATCH_PATH } from './scratch-volume.js';
import type { Termination } from './stop-sequence.js';

export interface PodLauncherOptions {
  slots: readonly Slot[];
  /** The runner's driver: every call stops at its AbortSignal. */
  driver: RunnerDriver;
  /** Removes a container even after the runner closed (one that failed to start or to get its files). */
  discard: (id: string) => Promise<void>;
  signal: AbortSignal;
  ports: InstancePorts;
  files: FileGate;
  /** The scratch volume mounted in every container (instances with init containers). */
  scratch: string | undefined;
  log: Logger;
  onEvent: RunnerEventSink;
  /** The current revision of the instance and its termination settings. */
  instance: () => Instance;
  termination: () => Termination;
  context: Omit<LaunchContext, 'hostPorts'>;
}

export class PodLauncher {
  /** Dead containers this runner replaced, kept for their logs until the dead-container GC. */
  readonly retired: { id: string; container: string }[] = [];

  constructor(private readonly opts: PodLauncherOptions) {}

  /** Creates a container of this instance with the scratch volume mounted and the config files in place. */
  async createContainer(launch: ContainerLaunch): Promise<string> {
    const { driver, scratch, files } = this.opts;
    const id = await driver.create(scratch ? { ...launch, mounts: [...(launch.mounts ?? []), { volume: scratch, path: SCRATCH_PATH }] } : launch);
    if (files.contents.length === 0) return id;
    try {
      await driver.copyFiles(id, files.contents);
    } catch (e) {
      await this.opts.discard(id);
      throw e;
    }
    return id;
  }

  async launchInOrder(now: number): Promise<void> {
    const slots = this.opts.slots;
    const first = slots[0];
    for (const slot of slots) {
      if (slot.done || slot.state?.running) continue;
      // Containers after the first join its network namespace: it must run first.
      if (slot.index > 0 && !first?.state?.running) return;
      if (slot.restartAt !== undefined && now < slot.restartAt) continue;
      await this.launch(slot, first?.id, now);
    }
  }

  private async launch(slot: Slot, networkOf: string | undefined, now: number): Promise<void> {
    const { driver, ports, log } = this.opts;
    try {
      if (!slot.id) {
        await ports.ensure(this.opts.signal);
        const ctx = { ...this.opts.context, hostPorts: ports.current };
        slot.id = await this.createContainer(buildLaunch(this.opts.instance(), slot.index, ctx, networkOf));
        slot.startedByUs = false;
      }
      slot.state = await driver.start(slot.id);
      slot.startedByUs = true;
    } catch (e) {
      // Closed meanwhile: what exists stays as it is (slot.id is set: remove() destroys it).
      this.opts.signal.throwIfAborted();
      // A container that will not start is replaced on the next attempt.
      if (slot.id) await this.opts.discard(slot.id);
      if (slot.index === 0) ports.onLaunchError(e);
      slot.id = undefined;
      slot.state = undefined;
      const delay = slot.backoff.next();
      slot.restartAt = now + delay;
      slot.message = `${describeError(e)}; back-off ${formatDelay(delay)}`;
      log.warn({ container: slot.spec.name, err: describeError(e), retryInMs: delay }, 'container failed to start');
      this.opts.onEvent('Warning', 'FailedStart', `could not start container ${slot.spec.name}: ${describeError(e)}`);
      return;
    }
    if (slot.everRan) slot.restartCount++;
    slot.everRan = true;
    slot.restartAt = undefined;
    slot.killedByHealth = false;
    slot.message = undefined;
    log.info({ container: slot.spec.name, id: slot.id, restartCount: slot.restartCount }, 'container started');
    this.opts.onEvent('Normal', 'Started', startedMessage(slot));
    if (slot.index === 0) await this.recreatePodMembers();
  }

  /** The first container got a new network namespace: the others must join the new one. */
  private async recreatePodMembers(): Promise<void> {
    for (const s of this.opts.slots.slice(1)) {
      if (!s.id || s.done) continue;
      s.health?.stop();
      s.healthFor = undefined;
      await this.retire(s.id, s.spec.name);
      s.id = undefined;
      s.state = undefined;
    }
  }

  /**
   * Keeps a replaced container, dead, for its logs (the dead-container GC removes it later). One
   * per container name: an older one goes now, so a crash loop cannot pile them up.
   */
  private async retire(id: string, container: string): Promise<void> {
    const { driver } = this.opts;
    try {
      await driver.retire(id);
    } catch (e) {
      this.opts.signal.throwIfAborted();
      this.opts.log.warn({ id, err: describeError(e) }, 'could not keep the replaced container; removing it');
      await driver.remove(id, this.opts.termination());
      return;
    }
    const older = this.retired.filter((r) => r.container === container);
    this.retired.push({ id, container });
    for (const r of older) {
      await driver.remove(r.id, this.opts.termination());
      this.retired.splice(this.retired.indexOf(r), 1);
    }
  }
}
