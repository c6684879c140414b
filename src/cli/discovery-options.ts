// The discovery flags of `gantry up | server | agent`: --dns-listen, --dns-ttl, --port-range and
// --dns-for-containers, checked before anything starts.
// --dns-listen and --port-range are parsed by the server's and the agent's own parsers, which the
// commands load in their action (so that `gantry get` does not load the server's modules).
import { isIP } from 'node:net';
import { UsageError } from '../core/index.js';
import type { DnsListenAddress } from '../server/index.js';

/** `--dns-ttl 1`: whole seconds, 0 to 3600. */
export function parseDnsTtl(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,4}$/.test(text.trim()) || n > 3600) throw new UsageError(`--dns-ttl must be whole seconds from 0 to 3600, like 1; not "${text}"`);
  return n;
}

/** `--dns-for-containers 172.17.0.1[,IP]`: addresses (no port: resolv.conf always means port 53). */
export function parseContainerDns(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const ips = text.split(',').map((s) => s.trim());
  for (const ip of ips) {
    if (isIP(ip) === 0) {
      throw new UsageError(`--dns-for-containers takes IP addresses where Gantry's DNS answers on port 53 (e.g. the docker bridge gateway 172.17.0.1); "${ip}" is not one`);
    }
  }
  return ips;
}

/**
 * Why containers would not reach Gantry's DNS with these flags, or undefined when they would:
 * resolv.conf has no port, so each --dns-for-containers address needs a --dns-listen on it, port 53.
 */
export function containerDnsProblem(containerDns: readonly string[] | undefined, dnsListen: readonly DnsListenAddress[]): string | undefined {
  const missing = (containerDns ?? []).filter((ip) => !dnsListen.some((a) => a.port === 53 && (a.host === ip || a.host === '0.0.0.0' || a.host === '::')));
  if (missing.length === 0) return undefined;
  return `containers are told to use ${missing.join(', ')} as their name server, but Gantry's DNS does not listen there on port 53; add ${missing.map((ip) => `${ip}:53`).join(',')} to --dns-listen (or run it on another Gantry host)`;
}
