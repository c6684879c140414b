// The load balancer flags of `gantry up` and `gantry server`: --lb-address, --lb-http-port,
// --lb / --no-lb. `up` runs it by default (HTTP port 8080); `server` only when asked, because a
// control plane on its own host is rarely where clients should connect.
import { isIP } from 'node:net';
import { UsageError } from '../core/index.js';

export interface LbFlags {
  lb?: boolean | undefined;
  lbAddress?: string | undefined;
  lbHttpPort?: string | undefined;
}

export interface LbChoice {
  address: string;
  httpPort?: number | undefined;
}

function port(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,5}$/.test(text.trim()) || n < 1 || n > 65535) throw new UsageError(`--lb-http-port must be a port number from 1 to 65535, like 8080; not "${text}"`);
  return n;
}

/**
 * What the flags ask for: undefined for no load balancer. `defaultOn`: `gantry up` (HTTP port 8080
 * unless given); off by default for `gantry server`, where --lb or --lb-http-port turns it on.
 */
export function parseLbFlags(flags: LbFlags, defaultOn: boolean): LbChoice | undefined {
  const address = flags.lbAddress ?? '127.0.0.1';
  if (isIP(address) === 0) throw new UsageError(`--lb-address must be an IP address where HAProxy binds, like 127.0.0.1; not "${address}"`);
  if (flags.lb === false) return undefined;
  const on = flags.lb === true || flags.lbHttpPort !== undefined || defaultOn;
  if (!on) return undefined;
  const httpPort = flags.lbHttpPort !== undefined ? port(flags.lbHttpPort) : defaultOn ? 8080 : undefined;
  return { address, httpPort };
}

/** The `lb:` line of `gantry up`. */
export function lbLine(lb: { address: string; httpPort?: number | undefined; offReason?: string | undefined } | undefined): string {
  if (!lb) return 'off (--no-lb)';
  if (lb.offReason) return `off: ${lb.offReason}`;
  const http = lb.httpPort !== undefined ? `host routing on http://${lb.address}:${lb.httpPort}` : 'no shared HTTP port';
  return `HAProxy on ${lb.address} (${http}; services ask with spec.expose)`;
}
