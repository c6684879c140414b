// The TLS flags of `gantry up` and `gantry server`: HTTPS is the default (`--tls-san` adds names
// and addresses to the server certificate); `--no-tls` serves plain HTTP, which the server refuses
// on a non-loopback address unless `--insecure` is also given.
import { isIP } from 'node:net';
import { UsageError } from '../core/index.js';

export interface TlsFlags {
  tls?: boolean | undefined;
  tlsSan?: string | undefined;
  insecure?: boolean | undefined;
}

export interface TlsChoice {
  tls: { sans: string[] } | false;
  insecure: boolean;
}

/** A DNS name (labels of letters, digits and hyphens; `*.` first allowed) or an IP address. */
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseTlsFlags(flags: TlsFlags): TlsChoice {
  const sans = (flags.tlsSan ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const san of sans) {
    if (isIP(san) === 0 && !DNS_NAME.test(san)) throw new UsageError(`--tls-san takes DNS names and IP addresses separated by commas, like gantry.lan,10.0.0.5; not "${san}"`);
  }
  if (flags.tls === false) {
    if (sans.length > 0) throw new UsageError('--tls-san names the server certificate: it does not go with --no-tls');
    return { tls: false, insecure: flags.insecure === true };
  }
  if (flags.insecure) throw new UsageError('--insecure only allows plain HTTP on a non-loopback address: give it with --no-tls, or drop it');
  return { tls: { sans }, insecure: false };
}
