// `--listen host:port` (also `:port` and `[::1]:port`), checked before anything is started.
import { createServer } from 'node:net';
import { UnavailableError, UsageError } from '../core/index.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string, what = '--listen'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):([0-9]{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${what} must be host:port like 127.0.0.1:7070, not "${text}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The URL clients use; an IPv6 host gets brackets. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Fails when `host:port` cannot be bound right now (another Gantry, or any other program, has it).
 * Checked before a start touches anything; port 0 always passes.
 */
export async function assertListenFree(listen: string): Promise<void> {
  const { host, port } = parseListen(listen);
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UnavailableError(`${listen} is already in use (EADDRINUSE): is another Gantry running? Nothing was started or changed. Stop it, or pass --listen with a free port`);
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${listen}: ${host} is not an address of this machine`);
    throw e;
  } finally {
    await new Promise<void>((r) => probe.close(() => r()));
  }
}
