// The node's host ports for published container ports. The agent picks them itself, before the
// container exists, so GANTRY_PORT_<NAME> can be in the container's environment and stays the same
// across restarts (the instance keeps its ports until it leaves the node). Docker's own pick came
// from the kernel's ephemeral range (32768-60999), where outgoing connections also take their
// ports: that is where the "address already in use" collisions came from. The default range lies
// below it.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { MalformedError, UnavailableError } from '../../core/index.js';

export interface PortRange {
  first: number;
  last: number;
}

/** Below Linux's ephemeral range (32768-60999) and above most well-known services. */
export const DEFAULT_PORT_RANGE: PortRange = { first: 20000, last: 29999 };

/** Whether a port is free to publish on; false for one that something on the host holds. */
export type PortProbe = (port: number, protocol: 'tcp' | 'udp') => Promise<boolean>;

export interface HostPortAllocatorOptions {
  range?: PortRange | undefined;
  /** Checked before a port is handed out (docker driver: a bind test); absent: none (fake driver). */
  probe?: PortProbe | undefined;
  /**
   * Where the walk starts; default a random port of the range, so several agents sharing a host
   * (tests, gantry sim) do not all race for the first ports.
   */
  start?: number | undefined;
}

export class HostPortAllocator {
  private readonly range: PortRange;
  private readonly held = new Set<number>();
  private next: number;

  constructor(private readonly opts: HostPortAllocatorOptions = {}) {
    this.range = opts.range ?? DEFAULT_PORT_RANGE;
    const size = this.range.last - this.range.first + 1;
    const start = opts.start ?? this.range.first + Math.floor(Math.random() * size);
    this.next = Math.min(this.range.last, Math.max(this.range.first, start));
  }

  /** Ports in use by this node's containers (adopted ones, fixed spec ports): never handed out. */
  reserve(ports: Iterable<number>): void {
    for (const p of ports) this.held.add(p);
  }

  release(ports: Iterable<number>): void {
    for (const p of ports) this.held.delete(p);
  }

  get inUse(): number {
    return this.held.size;
  }

  /**
   * A free port of the range, held until released. Walks on from the last port given (so a port
   * just released is not reused at once, while its old connections drain), skipping held ports and
   * ports the probe refuses. Throws UNAVAILABLE when the whole range is taken.
   */
  async allocate(protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
    const size = this.range.last - this.range.first + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = this.next;
      this.next = port >= this.range.last ? this.range.first : port + 1;
      if (this.held.has(port)) continue;
      // Held before the probe's await, so a concurrent allocate cannot pick the same port.
      this.held.add(port);
      if (!this.opts.probe || (await this.opts.probe(port, protocol))) return port;
      this.held.delete(port);
    }
    throw new UnavailableError(`no free host port in ${this.range.first}-${this.range.last} (${this.held.size} held by this node's containers); widen the agent's --port-range`);
  }
}

/** A bind test on the publish address: the port is free when we can listen on it (and let go). */
export function bindProbe(address: string): PortProbe {
  return (port, protocol) =>
    new Promise((resolve) => {
      if (protocol === 'udp') {
        const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
        s.once('error', () => {
          s.close();
          resolve(false);
        });
        s.bind(port, address, () => s.close(() => resolve(true)));
        return;
      }
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: address, exclusive: true }, () => server.close(() => resolve(true)));
    });
}

/** `--port-range 20000-29999`. */
export function parsePortRange(text: string, what = '--port-range'): PortRange {
  const m = /^\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*$/.exec(text);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) {
    throw new MalformedError(`${what} must be FIRST-LAST with 1 <= FIRST <= LAST <= 65535, like 20000-29999; not "${text}"`);
  }
  return { first, last };
}
