// `--listen host:port` (also `:port` and `[::1]:port`), checked before anything is started.
import { AppError } from '../core/index.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string, what = '--listen'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):([0-9]{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AppError('MALFORMED', `${what} must be host:port like 127.0.0.1:7070, not "${text}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The URL clients use; an IPv6 host gets brackets. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
