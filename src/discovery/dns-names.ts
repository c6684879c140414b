// The names Gantry's DNS answers for, under one zone (default `gantry.`):
//   <service>.<namespace>.gantry.                      A of the service's ready endpoints
//   _<port>._<tcp|udp>.<service>.<namespace>.gantry.   SRV, one per endpoint of that named port
//   <instance>.<service>.<namespace>.gantry.           A of one instance (the SRV targets)
// Plain string work, no I/O: parse a query name into what it asks about.

export const DEFAULT_ZONE = 'gantry';

export type DnsName =
  | { kind: 'apex' }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'service'; namespace: string; service: string }
  | { kind: 'instance'; namespace: string; service: string; instance: string }
  | { kind: 'srv'; namespace: string; service: string; port: string; protocol: 'tcp' | 'udp' }
  /** In the zone, but no shape we serve: NXDOMAIN. */
  | { kind: 'unknown' };

/** Lower-case, without the trailing dot. DNS names compare case-insensitively. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** What a query name asks about; undefined when it lies outside the zone (REFUSED). */
export function parseDnsName(name: string, zone: string = DEFAULT_ZONE): DnsName | undefined {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (n === z) return { kind: 'apex' };
  if (!n.endsWith(`.${z}`)) return undefined;
  const labels = n.slice(0, -(z.length + 1)).split('.');
  const [a, b, c, d] = labels;
  if (labels.some((l) => l.length === 0)) return { kind: 'unknown' };
  if (labels.length === 1 && a) return { kind: 'namespace', namespace: a };
  if (labels.length === 2 && a && b) return { kind: 'service', namespace: b, service: a };
  if (labels.length === 3 && a && b && c && !a.startsWith('_')) return { kind: 'instance', namespace: c, service: b, instance: a };
  if (labels.length === 4 && a && b && c && d && a.startsWith('_') && (b === '_tcp' || b === '_udp')) {
    return { kind: 'srv', namespace: d, service: c, port: a.slice(1), protocol: b === '_tcp' ? 'tcp' : 'udp' };
  }
  return { kind: 'unknown' };
}

export function serviceName(namespace: string, service: string, zone: string = DEFAULT_ZONE): string {
  return `${service}.${namespace}.${normalizeName(zone)}`;
}

export function instanceName(namespace: string, service: string, instance: string, zone: string = DEFAULT_ZONE): string {
  return `${instance}.${service}.${namespace}.${normalizeName(zone)}`;
}
