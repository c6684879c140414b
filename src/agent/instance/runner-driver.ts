// The driver as one runner's reconcile pass sees it: every call stops at the runner's AbortSignal.
// A call is not made once the signal fired, and a call that returns after it throws the signal's
// reason, so a pass of a runner that was removed or detached ends at its next driver call and
// never touches a container again. A container created meanwhile is destroyed before the throw: it
// must never start. Cleanup that must happen even then (remove(), a container that failed to
// start) goes to the plain driver.
import type { Logger } from 'pino';
import type { ContainerLaunch, ContainerState, Driver, FileToCopy, InstanceRef } from '../../drivers/driver.js';
import { removeContainer } from './remove-container.js';
import type { Termination } from './stop-sequence.js';

export class RunnerDriver {
  constructor(
    private readonly driver: Driver,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {}

  async create(launch: ContainerLaunch): Promise<string> {
    this.signal.throwIfAborted();
    const id = await this.driver.create(launch);
    if (this.signal.aborted) {
      await removeContainer(this.driver, id, 0, this.log);
      this.signal.throwIfAborted();
    }
    return id;
  }

  start(id: string): Promise<ContainerState> {
    return this.call(() => this.driver.start(id));
  }

  stop(id: string, t: Termination): Promise<void> {
    return this.call(() => this.driver.stop(id, t.gracePeriodSeconds, t.stopSignal));
  }

  inspect(id: string): Promise<ContainerState | undefined> {
    return this.call(() => this.driver.inspect(id));
  }

  /** Force-removes at once (a ghost: no signal ends it). */
  destroy(id: string): Promise<void> {
    return this.call(() => this.driver.destroy(id));
  }

  /** Stops with grace, then force-removes whatever happened to the stop (remove-container.ts). */
  async remove(id: string, t: Termination): Promise<void> {
    await this.call(() => removeContainer(this.driver, id, t.gracePeriodSeconds, this.log, t.stopSignal));
  }

  retire(id: string): Promise<void> {
    return this.call(() => this.driver.retire(id));
  }

  copyFiles(id: string, files: readonly FileToCopy[]): Promise<void> {
    return this.call(() => this.driver.copyFiles(id, files));
  }

  ensureVolume(name: string, instance: InstanceRef): Promise<void> {
    return this.call(() => this.driver.ensureVolume(name, instance));
  }

  ping(): Promise<void> {
    return this.call(() => this.driver.ping());
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.signal.throwIfAborted();
    const result = await fn();
    this.signal.throwIfAborted();
    return result;
  }
}
