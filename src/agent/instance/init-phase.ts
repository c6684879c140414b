// An instance's init containers: each runs to completion, in order, before the main containers
// are created. A failed one is run again (a new container) after back-off, so the instance stays
// Pending with reason InitFailed; under restartPolicy Never the instance fails instead. Finished
// init containers are kept (exited) until the instance is removed, so their logs stay readable.
//
// Init containers do not join the instance's network namespace: container 0 owns it and does not
// exist yet (Gantry has no pause container). They share the config files, the scratch volume, the
// hostname and the environment.
import type { Logger } from 'pino';
import { describeError, type ContainerSpec, type ContainerStatus, type RestartPolicy } from '../../core/index.js';
import type { ContainerState } from '../../drivers/driver.js';
import { RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';
import type { RunnerDriver } from './runner-driver.js';
import type { RunnerEventSink } from './runner-events.js';

interface InitSlot {
  readonly spec: ContainerSpec;
  readonly backoff: RestartBackoff;
  id?: string | undefined;
  state?: ContainerState | undefined;
  startedByUs: boolean;
  done: boolean;
  /** Runs that failed so far. */
  failures: number;
  restartAt?: number | undefined;
  message?: string | undefined;
}

export type InitStep = 'done' | 'running' | 'backoff' | 'failed';

export interface InitPhaseOptions {
  specs: readonly ContainerSpec[];
  /** The runner's driver: every call stops at its AbortSignal (runner-driver.ts). */
  driver: Pick<RunnerDriver, 'inspect' | 'start'>;
  backoff: BackoffOptions;
  log: Logger;
  onEvent: RunnerEventSink;
  /** Creates (does not start) the container for an init spec: files copied, volume mounted. */
  create: (spec: ContainerSpec) => Promise<string>;
  /** Stops and removes a container. */
  destroy: (id: string) => Promise<void>;
  /** The runner's: once it fires, a step ends at its next driver call (throws) and touches nothing more. */
  signal: AbortSignal;
}

export class InitPhase {
  private readonly slots: InitSlot[];

  constructor(private readonly opts: InitPhaseOptions) {
    this.slots = opts.specs.map((spec) => ({ spec, backoff: new RestartBackoff(opts.backoff), startedByUs: false, done: false, failures: 0 }));
  }

  get names(): string[] {
    return this.slots.map((s) => s.spec.name);
  }

  get done(): boolean {
    return this.slots.every((s) => s.done);
  }

  get ids(): string[] {
    return this.slots.map((s) => s.id).filter((id): id is string => id !== undefined);
  }

  owns(id: string): boolean {
    return this.slots.some((s) => s.id === id);
  }

  /** When the next retry is due, while one waits. */
  get retryAt(): number | undefined {
    return this.slots.find((s) => s.restartAt !== undefined)?.restartAt;
  }

  /** The main containers already exist (adopted after an agent restart): init ran before. */
  markDone(): void {
    for (const s of this.slots) s.done = true;
  }

  /** Takes the containers a previous agent left for init specs; returns the rest. */
  adopt(found: readonly ContainerState[]): ContainerState[] {
    const rest: ContainerState[] = [];
    for (const st of found) {
      const slot = this.slots.find((s) => s.spec.name === st.container);
      if (!slot || slot.id) rest.push(st);
      else {
        slot.id = st.id;
        slot.state = st;
        slot.done = !st.running && st.exitCode === 0 && st.startedAt !== undefined;
      }
    }
    return rest;
  }

  /** Pending reason and message while init containers run or wait; undefined once all are done. */
  pending(): { reason: string; message: string } | undefined {
    const i = this.slots.findIndex((s) => !s.done);
    const slot = this.slots[i];
    if (!slot) return undefined;
    if (slot.restartAt !== undefined || (slot.failures > 0 && !slot.state?.running)) {
      return { reason: 'InitFailed', message: slot.message ?? `init container "${slot.spec.name}" failed` };
    }
    return { reason: 'Initializing', message: `running init container "${slot.spec.name}" (${i + 1} of ${this.slots.length})` };
  }

  statuses(): ContainerStatus[] {
    return this.slots
      .filter((s) => s.id !== undefined || s.failures > 0)
      .map((s) => {
        const running = s.state?.running === true;
        const exited = !running && s.state !== undefined && (s.startedByUs || s.state.startedAt !== undefined);
        return {
          name: s.spec.name,
          containerId: s.id,
          state: running ? 'running' : exited ? 'exited' : 'waiting',
          restartCount: s.failures,
          hostPorts: {},
          exitCode: exited ? s.state?.exitCode : undefined,
          startedAt: s.state?.startedAt,
          message: s.message,
        };
      });
  }

  /**
   * One level-triggered step: observe the current init container, start the next, or note a
   * failure. 'done' once every init container exited with 0.
   */
  async step(now: number, policy: RestartPolicy): Promise<InitStep> {
    for (const slot of this.slots) {
      if (slot.done) continue;
      if (slot.id) {
        slot.state = await this.opts.driver.inspect(slot.id);
        if (!slot.state) slot.id = undefined; // removed behind our back: run it again
      }
      if (slot.state?.running) return 'running';
      const exited = slot.id !== undefined && slot.state !== undefined && (slot.startedByUs || slot.state.startedAt !== undefined);
      if (exited && slot.state?.exitCode === 0) {
        slot.done = true;
        slot.restartAt = undefined;
        slot.message = undefined;
        slot.backoff.reset();
        this.opts.onEvent('Normal', 'Completed', `init container ${slot.spec.name} exited with code 0`);
        continue;
      }
      if (exited && slot.restartAt === undefined) return this.failed(slot, now, policy);
      if (slot.restartAt !== undefined && now < slot.restartAt) return 'backoff';
      return this.run(slot, now, policy);
    }
    return 'done';
  }

  private failed(slot: InitSlot, now: number, policy: RestartPolicy): InitStep {
    slot.failures++;
    const code = slot.state?.exitCode;
    const what = `init container "${slot.spec.name}" exited with code ${code ?? 'unknown'}`;
    if (policy === 'Never') {
      slot.message = `${what}; not retrying (restartPolicy Never)`;
      this.opts.onEvent('Warning', 'InitFailed', slot.message);
      return 'failed';
    }
    const delay = slot.backoff.next();
    slot.restartAt = now + delay;
    slot.message = `${what}; retrying in ${formatDelay(delay)} (attempt ${slot.failures + 1}); see gantry logs INSTANCE -c ${slot.spec.name}`;
    this.opts.log.info({ container: slot.spec.name, exitCode: code, retryInMs: delay }, 'init container failed');
    this.opts.onEvent('Warning', 'InitFailed', `${what}; retrying in ${formatDelay(delay)}`);
    return 'backoff';
  }

  /** Replaces the failed container (its log was readable until now) and starts a new run. */
  private async run(slot: InitSlot, now: number, policy: RestartPolicy): Promise<InitStep> {
    const { driver } = this.opts;
    try {
      if (slot.id && slot.state && (slot.startedByUs || slot.state.startedAt !== undefined)) {
        await this.opts.destroy(slot.id);
        slot.id = undefined;
        slot.state = undefined;
      }
      if (!slot.id) slot.id = await this.opts.create(slot.spec);
      slot.state = await driver.start(slot.id);
      slot.startedByUs = true;
      slot.restartAt = undefined;
      this.opts.onEvent('Normal', 'Started', `started init container ${slot.spec.name} (id ${slot.id.slice(0, 12)})`);
      return 'running';
    } catch (e) {
      // Closed meanwhile: what exists stays as it is (remove() destroys it; a detached agent keeps it).
      this.opts.signal.throwIfAborted();
      if (slot.id) await this.opts.destroy(slot.id);
      slot.id = undefined;
      slot.state = undefined;
      slot.failures++;
      const delay = slot.backoff.next();
      slot.restartAt = now + delay;
      slot.message = `could not start init container "${slot.spec.name}": ${describeError(e)}; retrying in ${formatDelay(delay)}`;
      this.opts.onEvent('Warning', 'FailedStart', slot.message);
      return policy === 'Never' ? 'failed' : 'backoff';
    }
  }
}
