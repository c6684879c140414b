// `--listen host:port` (also `:port` and `[::1]:port`), checked before anything is started.
import { createServer, isIP } from 'node:net';
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

/**
 * The URL clients on this host use; an IPv6 host gets brackets. A wildcard listen address (all
 * interfaces) is reached on loopback, which the server certificate always names.
 */
export function urlOf(host: string, port: number, scheme: 'http' | 'https' = 'https'): string {
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${reach.includes(':') ? `[${reach}]` : reach}:${port}`;
}

/**
 * Whether only this machine can reach `host`: 127.0.0.0/8, ::1, an IPv4-mapped loopback, or the
 * name localhost. Wildcards (0.0.0.0, ::) and every other address or name are not: plain HTTP there
 * would carry bearer tokens across a network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped?.[1]) return mapped[1].startsWith('127.');
    return new URL(`http://[${h}]/`).hostname === '[::1]';
  }
  return false;
}

/**
 * Plain HTTP only on loopback, unless the operator said `--insecure`. Checked before anything is
 * started; the caller logs the warning when `insecure` lets a non-loopback address through.
 */
export function assertPlainHttpAllowed(host: string, port: number, insecure: boolean): void {
  if (insecure || isLoopbackHost(host)) return;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  throw new UsageError(`refusing to serve the API without TLS on ${where}, which is not a loopback address: tokens would cross the network in clear text. Drop --no-tls (HTTPS is the default), or pass --insecure to accept that`);
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
