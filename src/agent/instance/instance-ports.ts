// One instance's host ports by port name, for its whole life on this node: what a restarted or
// recreated container publishes again and finds in GANTRY_PORT_<NAME>. Fixed spec ports are kept
// as they are; the others come from the node's HostPortAllocator.
import { PortConflictError, type Instance } from '../../core/index.js';
import type { HostPortAllocator } from './host-ports.js';

export class InstancePorts {
  private ports: Record<string, number> = {};

  constructor(
    private readonly instance: Instance,
    private readonly allocator: HostPortAllocator | undefined,
  ) {}

  /** Port name -> host port, as known now (what buildLaunch publishes and injects). */
  get current(): Readonly<Record<string, number>> {
    return this.ports;
  }

  /**
   * Ports the instance already had: from its adopted first container, else from its last reported
   * status (a container that died while the agent was away). Held so no other instance gets them.
   */
  keepKnown(adopted: Readonly<Record<string, number>> | undefined): void {
    const reported = this.instance.status?.containers[0]?.hostPorts;
    const known = adopted && Object.keys(adopted).length > 0 ? adopted : (reported ?? {});
    for (const p of this.specPorts()) {
      const port = p.hostPort ?? known[p.name];
      if (port !== undefined) this.ports[p.name] = port;
    }
    this.allocator?.reserve(Object.values(this.ports));
  }

  /** Picks a host port for every named port that has none yet; once `signal` fired, gives back and throws its reason. */
  async ensure(signal: AbortSignal): Promise<void> {
    const allocator = this.allocator;
    if (!allocator) return;
    for (const p of this.specPorts()) {
      if (this.ports[p.name] !== undefined) continue;
      if (p.hostPort !== undefined) {
        this.ports[p.name] = p.hostPort;
        allocator.reserve([p.hostPort]);
        continue;
      }
      const port = await allocator.allocate(p.protocol ?? 'tcp');
      if (signal.aborted) {
        allocator.release([port]);
        signal.throwIfAborted();
      }
      this.ports[p.name] = port;
    }
  }

  /** After a failed launch: when the driver found a picked port taken (someone took it between our pick and its bind), the next attempt picks others. */
  onLaunchError(error: unknown): void {
    if (!(error instanceof PortConflictError)) return;
    const picked = this.specPorts().filter((p) => p.hostPort === undefined && this.ports[p.name] !== undefined);
    this.allocator?.release(picked.map((p) => this.ports[p.name] ?? 0));
    for (const p of picked) delete this.ports[p.name];
  }

  /** The instance left the node: every port goes back. */
  releaseAll(): void {
    this.allocator?.release(Object.values(this.ports));
    this.ports = {};
  }

  private specPorts() {
    return this.instance.spec.containers.flatMap((c) => c.ports ?? []);
  }
}
