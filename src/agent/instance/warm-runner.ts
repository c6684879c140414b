// One run of a job with runIn warm: executes the container's command + args by exec in the job's
// warm container (warm-pool.ts) and reports it like a fresh container's run: phase Running, then
// Succeeded or Failed with containers[0].exitCode, startedAt and finishedAt; the output (bounded
// by the driver, 64 KiB) is kept for the log endpoint until the instance is deleted. A run is
// executed at most once: an instance already finished is only reported, and one that was running
// when the agent restarted is reported Failed (its exec's outcome is lost).
import type { Logger } from 'pino';
import { describeError, isFinished, namespaceOf, type ContainerStatus, type Instance, type InstanceStatus } from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';
import { FileGate, type FileSource } from './file-gate.js';
import { DEFAULT_BACKOFF, RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';
import type { Runner } from './runner.js';
import type { RunnerEventSink } from './runner-events.js';
import type { WarmPool } from './warm-pool.js';
import { WakeTimer } from './wake-timer.js';

/** Docker cannot kill an exec; this only bounds how long the agent waits for one. */
const EXEC_WAIT_MS = 7 * 24 * 3600_000;

export interface WarmRunnerOptions {
  instance: Instance;
  pool: WarmPool;
  driver: Driver;
  nodeName: string;
  hostIP: string;
  logger: Logger;
  files?: FileSource | undefined;
  restartBackoff?: BackoffOptions | undefined;
  onStatus: (instance: Instance, status: InstanceStatus) => void;
  onEvent?: RunnerEventSink | undefined;
}

type Stage = 'waiting' | 'running' | 'finished';

export class WarmRunner implements Runner {
  private instance: Instance;
  private stage: Stage = 'waiting';
  /** Fires on remove() or detach(): no pass starts, nothing more is reported. */
  private readonly closing = new AbortController();
  private readonly signal = this.closing.signal;
  private loop: Promise<void> | undefined;
  private containerId: string | undefined;
  private startedAt: string | undefined;
  private finishedAt: string | undefined;
  private exitCode: number | undefined;
  private output: string | undefined;
  private pending: { reason: string; message: string } | undefined;
  private terminal: { phase: 'Succeeded' | 'Failed'; reason: string; message: string } | undefined;
  private readonly files: FileGate;
  private readonly backoff: RestartBackoff;
  private readonly wake = new WakeTimer(() => this.poke(), this.signal);
  private readonly log: Logger;

  constructor(private readonly opts: WarmRunnerOptions) {
    this.instance = opts.instance;
    const { namespace, name, uid } = opts.instance.metadata;
    this.log = opts.logger.child({ namespace, name, uid, runIn: 'warm' });
    const backoff = opts.restartBackoff ?? DEFAULT_BACKOFF;
    this.backoff = new RestartBackoff(backoff);
    this.files = new FileGate(opts.files, backoff, this.log, (p) => this.opts.onEvent?.('Warning', p.reason, p.message));
    const st = opts.instance.status;
    if (st && isFinished(opts.instance)) {
      this.stage = 'finished';
      this.containerId = st.containers[0]?.containerId;
    } else if (st?.phase === 'Running') {
      // A run this agent started before it restarted: its exec's outcome cannot be had any more.
      this.stage = 'finished';
      this.containerId = st.containers[0]?.containerId;
      this.startedAt = st.containers[0]?.startedAt;
      this.terminal = { phase: 'Failed', reason: 'AgentRestarted', message: 'the agent restarted during this warm run; its exit code is unknown' };
    }
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
  get containerNames(): string[] {
    return [];
  }

  /** The run's own log id (`run.<uid>`, see logId); the warm container is the pool's. */
  owns(id: string): boolean {
    return id === this.logId;
  }

  get logId(): string {
    return `run.${this.uid}`;
  }

  /** The run's output lines by its log id, once it finished (kept while the instance exists). */
  keptLog(logId: string, tail: number | undefined): string[] | undefined {
    if (logId !== this.logId) return undefined;
    if (this.output === undefined) return this.stage === 'finished' ? [] : undefined;
    const lines = this.output.replace(/\n$/, '').split('\n');
    if (this.output === '') return [];
    return tail === undefined ? lines : tail <= 0 ? [] : lines.slice(-tail);
  }

  update(instance: Instance): void {
    this.instance = instance;
  }

  /** The run ended; the warm container is the pool's, so there is no dead container of its own. */
  get finished(): boolean {
    return this.stage === 'finished';
  }

  /** Nothing to forget: a warm run owns only its log. */
  forgetContainer(_id: string): void {}

  /** The warm container is the pool's, not this run's. */
  liveContainers(): { container: string; id: string }[] {
    return [];
  }

  /** A warm run has no health checks to pause. */
  runtimeLost(): void {}

  /** After a runtime outage: look again (a run in flight is judged by its exec). */
  runtimeRecovered(): void {
    this.poke();
  }

  poke(): void {
    if (this.signal.aborted) return;
    this.loop ??= this.pass().finally(() => {
      this.loop = undefined;
    });
  }

  async remove(): Promise<void> {
    this.detach();
    // An exec cannot be killed: a run still going ends in the warm container by itself.
    await this.loop;
    this.opts.pool.release(this.instance);
  }

  detach(): void {
    this.closing.abort();
  }

  async idle(): Promise<void> {
    await this.loop;
  }

  private async pass(): Promise<void> {
    if (this.stage === 'finished') {
      if (this.terminal) this.publish();
      return;
    }
    if (this.stage === 'running') return;
    const spec = this.instance.spec.containers[0];
    const command = [...(spec?.command ?? []), ...(spec?.args ?? [])];
    if (!spec || command.length === 0 || this.instance.spec.containers.length > 1 || (this.instance.spec.initContainers ?? []).length > 0) {
      return this.finish(undefined, 'Failed', 'WarmUnsupported', 'runIn warm needs exactly one container with a command (and no init containers); see docs/config-files.md');
    }
    const now = Date.now();
    if (!(await this.files.ensure(this.instance, now))) {
      this.pending = this.files.problem;
      this.publish();
      if (this.files.retryAt !== undefined) this.wake.at(this.files.retryAt);
      return;
    }
    if (this.signal.aborted) return;
    let id: string;
    try {
      id = await this.opts.pool.acquire(this.instance, this.files.contents);
    } catch (e) {
      const delay = this.backoff.next();
      this.pending = { reason: 'WarmStartFailed', message: `could not start the warm container: ${describeError(e)}; retrying in ${formatDelay(delay)}` };
      this.log.warn({ err: describeError(e), retryInMs: delay }, 'warm container not available');
      this.opts.onEvent?.('Warning', 'FailedStart', this.pending.message);
      this.publish();
      this.wake.at(now + delay);
      return;
    }
    if (this.signal.aborted) {
      this.opts.pool.release(this.instance);
      return;
    }
    this.pending = undefined;
    this.stage = 'running';
    this.containerId = id;
    this.startedAt = new Date().toISOString();
    this.publish();
    this.opts.onEvent?.('Normal', 'Started', `started run in warm container ${id.slice(0, 12)}: ${command.join(' ')}`);
    const t0 = performance.now();
    try {
      const result = await this.opts.driver.exec(id, command, EXEC_WAIT_MS);
      this.output = result.output;
      const ms = Math.round(performance.now() - t0);
      const ok = result.exitCode === 0;
      const what = `container ${spec.name} exited with code ${result.exitCode} after ${ms} ms (warm container ${id.slice(0, 12)})`;
      this.opts.onEvent?.(ok ? 'Normal' : 'Warning', ok ? 'Completed' : 'Failed', what);
      this.finish(result.exitCode, ok ? 'Succeeded' : 'Failed', ok ? 'Completed' : 'ContainerFailed', ok ? 'all containers exited with code 0' : `container "${spec.name}" exited with code ${result.exitCode}`);
    } catch (e) {
      this.output = '';
      this.finish(undefined, 'Failed', 'ExecFailed', `could not run in the warm container: ${describeError(e)}`);
    } finally {
      this.opts.pool.release(this.instance);
    }
  }

  private finish(exitCode: number | undefined, phase: 'Succeeded' | 'Failed', reason: string, message: string): void {
    this.stage = 'finished';
    this.exitCode = exitCode;
    this.finishedAt = new Date().toISOString();
    this.terminal = { phase, reason, message };
    this.log.info({ phase, exitCode }, 'warm run finished');
    this.publish();
  }

  private publish(): void {
    if (this.signal.aborted) return;
    const spec = this.instance.spec.containers[0];
    const c: ContainerStatus = {
      name: spec?.name ?? 'main',
      containerId: this.containerId,
      state: this.stage === 'running' ? 'running' : this.stage === 'finished' ? 'exited' : 'waiting',
      restartCount: 0,
      hostPorts: {},
      ...(this.exitCode !== undefined ? { exitCode: this.exitCode } : {}),
      ...(this.startedAt ? { startedAt: this.startedAt } : {}),
      ...(this.finishedAt ? { finishedAt: this.finishedAt } : {}),
      ...(this.pending ? { message: this.pending.message } : {}),
    };
    const t = this.terminal;
    const status: InstanceStatus = {
      phase: t ? t.phase : this.pending ? 'Pending' : this.stage === 'running' ? 'Running' : 'Starting',
      ready: false,
      node: this.opts.nodeName,
      hostIP: this.opts.hostIP,
      ...(t ? { reason: t.reason, message: t.message } : this.pending ? { reason: this.pending.reason, message: this.pending.message } : {}),
      containers: [c],
      ...(this.startedAt ? { startedAt: this.startedAt } : {}),
    };
    this.opts.onStatus(this.instance, status);
  }
}
