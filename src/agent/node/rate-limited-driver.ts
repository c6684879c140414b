// The per-node cap on container churn: every launch (a create and the first start of what it
// created), every other start and every destroy first takes a token from one bucket (agent option
// maxContainerOpsPerSecond, default 10/s). A launch is one operation: taking a token for its
// create and another for its start made 20 new containers wait 3 s for tokens. Restart back-off already
// spaces out one crash loop; the cap bounds all of them together, so many instances crashing at
// once (or a mass reschedule) cannot create and destroy containers fast enough to wedge the kernel.
import type { ContainerSpec, HealthCheck } from '../../core/index.js';
import type { ContainerLaunch, ContainerState, Driver, DriverEvent, ContainerUsage, ExecProcess, ExecResult, ExecSessionOptions, FileToCopy, Fingerprint, InstanceRef, LogOptions, ProbeResult } from '../../drivers/driver.js';
import type { TokenBucket } from './token-bucket.js';

export class RateLimitedDriver implements Driver {
  /** Containers created through this driver and not started yet: their start is paid for. */
  private readonly paid = new Set<string>();

  constructor(
    private readonly inner: Driver,
    private readonly bucket: TokenBucket,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  fingerprint(): Promise<Fingerprint> {
    return this.inner.fingerprint();
  }

  ensureImage(image: string): Promise<void> {
    return this.inner.ensureImage(image);
  }

  async create(launch: ContainerLaunch): Promise<string> {
    await this.bucket.take();
    const id = await this.inner.create(launch);
    this.paid.add(id);
    return id;
  }

  async start(id: string): Promise<ContainerState> {
    if (!this.paid.delete(id)) await this.bucket.take();
    return this.inner.start(id);
  }

  stop(id: string, timeoutSeconds: number, signal?: string): Promise<void> {
    return this.inner.stop(id, timeoutSeconds, signal);
  }

  retire(id: string): Promise<void> {
    this.paid.delete(id);
    return this.inner.retire(id);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  async destroy(id: string): Promise<void> {
    this.paid.delete(id);
    await this.bucket.take();
    return this.inner.destroy(id);
  }

  copyFiles(id: string, files: readonly FileToCopy[]): Promise<void> {
    return this.inner.copyFiles(id, files);
  }

  ensureVolume(name: string, instance: InstanceRef): Promise<void> {
    return this.inner.ensureVolume(name, instance);
  }

  removeVolume(name: string): Promise<void> {
    return this.inner.removeVolume(name);
  }

  inspect(id: string): Promise<ContainerState | undefined> {
    return this.inner.inspect(id);
  }

  recover(): Promise<ContainerState[]> {
    return this.inner.recover();
  }

  logs(id: string, opts: LogOptions): AsyncIterable<string> {
    return this.inner.logs(id, opts);
  }

  exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return this.inner.exec(id, command, timeoutMs);
  }

  stats(id: string): Promise<ContainerUsage | undefined> {
    return this.inner.stats(id);
  }

  /** A person's session, not a container operation: not rate-limited (the exec endpoint caps sessions). */
  openExec(id: string, opts: ExecSessionOptions): Promise<ExecProcess> {
    return this.inner.openExec(id, opts);
  }

  probe(state: ContainerState, ports: ContainerSpec['ports'], check: HealthCheck, timeoutMs: number): Promise<ProbeResult> {
    return this.inner.probe(state, ports, check, timeoutMs);
  }

  events(signal: AbortSignal): AsyncIterable<DriverEvent> {
    return this.inner.events(signal);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
