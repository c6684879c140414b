// What HAProxy should look like, as typed data: frontends (one per servicePort, plus the shared
// HTTP port routed by Host header), backends (one per service, port and mode) with a fixed number
// of server slots, and per expose entry what became of it (a conflict is reported, not rendered).
// Pure: services and endpoint counts in, model out. Endpoints themselves are not part of the model:
// they go into the slots through the runtime API, so the model changes only when a reload is due.
import { isSafeString, parseDuration, namespaceOf, safeStringMessage, type Service } from '../../core/index.js';

export type LbMode = 'http' | 'tcp';

export interface LbOptions {
  /** Where frontends bind. */
  address: string;
  /** The shared HTTP port for hostname routes; absent: hostnames are not served. */
  httpPort?: number | undefined;
}

/** How HAProxy checks a slot's server: mirrors the service's health check where it can. */
export interface LbHealth {
  /** http: `option httpchk GET <path>`; tcp: a connect check. */
  kind: 'http' | 'tcp';
  path?: string | undefined;
  intervalMs: number;
  /** Failed checks in a row before a server is DOWN (the health check's `retries`). */
  fall: number;
}

export interface LbBackend {
  name: string;
  namespace: string;
  service: string;
  /** The container port's name. */
  port: string;
  mode: LbMode;
  /** Server slots slot1..slotN; a power of two, never shrinks while Gantry runs. */
  slots: number;
  health: LbHealth;
}

export interface LbFrontend {
  name: string;
  address: string;
  port: number;
  mode: LbMode;
  backend: string;
}

export interface LbHostRoute {
  hostname: string;
  backend: string;
}

/** One spec.expose[] entry and what the load balancer made of it. */
export interface LbEntry {
  namespace: string;
  service: string;
  index: number;
  port: string;
  mode: LbMode;
  servicePort?: number | undefined;
  hostname?: string | undefined;
  backend?: string | undefined;
  /** Why the entry is not served (a conflict with another service, no shared HTTP port). */
  problem?: string | undefined;
}

export interface LbModel {
  httpFrontend?: { address: string; port: number; routes: LbHostRoute[] } | undefined;
  frontends: LbFrontend[];
  backends: LbBackend[];
  entries: LbEntry[];
}

const MIN_SLOTS = 8;

/** The smallest power of two that holds `n` servers, at least MIN_SLOTS. */
export function slotsFor(n: number): number {
  let s = MIN_SLOTS;
  while (s < n) s *= 2;
  return s;
}

function backendName(namespace: string, service: string, port: string, mode: LbMode): string {
  // Names, namespaces and port names hold no '_': the parts cannot run into each other.
  return `be_${namespace}_${service}_${port}_${mode}`;
}

const DEFAULT_INTERVAL_MS = 2000;

/** A health-check path that would break haproxy.cfg (an object stored before the strict patterns): its field path. */
function unsafeHealthPath(svc: Service, port: string): string | undefined {
  const i = svc.spec.containers.findIndex((c) => c.healthCheck !== undefined);
  const http = svc.spec.containers[i]?.healthCheck?.http;
  if (!http || http.port !== port || http.path === undefined || isSafeString('httpPath', http.path)) return undefined;
  return `spec.containers[${i}].healthCheck.http.path`;
}

function healthOf(svc: Service, port: string): LbHealth {
  for (const c of svc.spec.containers) {
    const hc = c.healthCheck;
    if (!hc) continue;
    const intervalMs = parseDuration(hc.interval ?? '10s') ?? 10_000;
    const fall = hc.retries ?? 3;
    // Only a check on the exposed port can be mirrored: other ports have other host ports per slot.
    if (hc.http && hc.http.port === port) return { kind: 'http', path: hc.http.path ?? '/', intervalMs, fall };
    if (hc.tcp && hc.tcp.port === port) return { kind: 'tcp', intervalMs, fall };
    return { kind: 'tcp', intervalMs, fall };
  }
  return { kind: 'tcp', intervalMs: DEFAULT_INTERVAL_MS, fall: 3 };
}

export interface ModelInput {
  services: readonly Service[];
  options: LbOptions;
  /** Ready endpoints of a service's named port right now. */
  endpointCount: (namespace: string, service: string, port: string) => number;
  /** Slots a backend has now (they never shrink), or undefined for a new backend. */
  currentSlots: (backend: string) => number | undefined;
}

/** Oldest first (then by name): on a clash of ports or host names, the older service keeps it. */
function byAge(a: Service, b: Service): number {
  return (a.metadata.createdAt ?? '').localeCompare(b.metadata.createdAt ?? '') || key(a).localeCompare(key(b));
}

function key(s: Service): string {
  return `${namespaceOf(s)}/${s.metadata.name}`;
}

export function buildLbModel(input: ModelInput): LbModel {
  const { options } = input;
  const backends = new Map<string, LbBackend>();
  const frontends = new Map<number, LbFrontend & { owner: string }>();
  const routes = new Map<string, LbHostRoute & { owner: string }>();
  const entries: LbEntry[] = [];
  for (const svc of [...input.services].sort(byAge)) {
    const namespace = namespaceOf(svc);
    const service = svc.metadata.name;
    (svc.spec.expose ?? []).forEach((e, index) => {
      const mode: LbMode = e.mode ?? 'http';
      const entry: LbEntry = { namespace, service, index, port: e.port, mode, servicePort: e.servicePort, hostname: e.hostname };
      entries.push(entry);
      const problems: string[] = [];
      const at = `spec.expose[${index}]`;
      if (e.servicePort !== undefined) {
        const taken = frontends.get(e.servicePort);
        if (taken) problems.push(`${at}.servicePort ${e.servicePort} is already used by service ${taken.owner}; pick another port`);
        else if (e.servicePort === options.httpPort) problems.push(`${at}.servicePort ${e.servicePort} is the shared HTTP port (--lb-http-port); use hostname, or another port`);
      }
      if (e.hostname !== undefined) {
        const taken = routes.get(e.hostname);
        if (options.httpPort === undefined) problems.push(`${at}.hostname needs the shared HTTP port; start Gantry with --lb-http-port`);
        else if (taken) problems.push(`${at}.hostname ${e.hostname} is already routed to service ${taken.owner}; pick another host name`);
      }
      // Admission refuses these; an object stored before it did is not rendered (safe-strings.ts).
      if (e.hostname !== undefined && !isSafeString('hostname', e.hostname)) problems.push(`${at}.hostname ${safeStringMessage('hostname')}; not served`);
      const badPath = unsafeHealthPath(svc, e.port);
      if (badPath) problems.push(`${badPath} ${safeStringMessage('httpPath')}; not served`);
      if (problems.length > 0) {
        entry.problem = problems.join('; ');
        return;
      }
      const name = backendName(namespace, service, e.port, mode);
      entry.backend = name;
      if (!backends.has(name)) {
        const want = slotsFor(input.endpointCount(namespace, service, e.port));
        backends.set(name, { name, namespace, service, port: e.port, mode, slots: Math.max(want, input.currentSlots(name) ?? 0), health: healthOf(svc, e.port) });
      }
      const owner = `${namespace}/${service}`;
      if (e.servicePort !== undefined) frontends.set(e.servicePort, { name: `fe_${e.servicePort}`, address: options.address, port: e.servicePort, mode, backend: name, owner });
      if (e.hostname !== undefined) routes.set(e.hostname, { hostname: e.hostname, backend: name, owner });
    });
  }
  const strip = <T extends { owner: string }>({ owner: _owner, ...rest }: T): Omit<T, 'owner'> => rest;
  return {
    httpFrontend:
      options.httpPort !== undefined
        ? { address: options.address, port: options.httpPort, routes: [...routes.values()].map(strip).sort((a, b) => a.hostname.localeCompare(b.hostname)) }
        : undefined,
    frontends: [...frontends.values()].map(strip).sort((a, b) => a.port - b.port),
    backends: [...backends.values()].sort((a, b) => a.name.localeCompare(b.name)),
    entries,
  };
}
