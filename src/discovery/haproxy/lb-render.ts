// The HAProxy configuration text for a model. Deterministic (same model and slots, same bytes), so
// the manager can compare renders. Servers are explicit `server slotK` lines (what server-template
// would make) carrying the addresses known at render time: a reloaded worker serves at once,
// instead of waiting for the runtime API to fill empty slots. `structureOf` is the same text with
// the addresses left out: when only that part is unchanged, no reload is due.
// Every string that comes from an object (paths, host names, addresses) is checked once more
// against core/safe-strings.ts: a value that would break a line is never written (UnsafeStringError).
import { requireSafe } from '../../core/index.js';
import type { LbBackend, LbModel } from './lb-model.js';

export interface LbPaths {
  /** The runtime API (stats socket, admin level). */
  adminSocket: string;
  /**
   * Who the workers run as, and the directory they are locked in (Debian's own config: user and
   * group haproxy, chroot /var/lib/haproxy). The master stays root to bind ports and reload; the
   * sockets are bound by the master before the workers drop privileges, so they keep working.
   * Absent: the workers run as whoever started Gantry (not root, or no haproxy user on this host).
   */
  worker?: WorkerIdentity | undefined;
}

export interface WorkerIdentity {
  user: string;
  group: string;
  chroot: string;
}

/** What sits in one slot: an endpoint, or nothing (the server is in maintenance). */
export interface SlotServer {
  address: string;
  port: number;
  instance: string;
}

export type SlotsOf = (backend: string) => readonly (SlotServer | undefined)[];

/** Empty slots point at a port nobody serves; they start disabled (MAINT). */
const PARKED = '127.0.0.1:1';

function q(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

function backendLines(b: LbBackend, slots: readonly (SlotServer | undefined)[], withAddresses: boolean): string[] {
  const out = [`backend ${b.name}`, `  mode ${b.mode}`, '  balance roundrobin'];
  if (b.health.kind === 'http') {
    out.push(`  option httpchk GET ${requireSafe('httpPath', b.health.path ?? '/', `the health-check path of ${b.namespace}/${b.service}`)}`, '  http-check expect status 200-399');
  }
  // A refused connection is retried elsewhere (redispatch); HTTP may also retry an empty answer.
  if (b.mode === 'http') out.push('  retry-on conn-failure empty-response response-timeout');
  // observe layer4: a server whose connections fail is marked DOWN at once, not after `fall` checks.
  out.push(`  default-server check inter ${b.health.intervalMs}ms fastinter ${Math.min(b.health.intervalMs, 500)}ms fall ${b.health.fall} rise 1 observe layer4 error-limit 1 on-error mark-down`);
  for (let k = 0; k < b.slots; k++) {
    const s = withAddresses ? slots[k] : undefined;
    out.push(s ? `  server slot${k + 1} ${requireSafe('address', s.address, `the address of ${s.instance}`)}:${s.port}` : `  server slot${k + 1} ${PARKED} disabled`);
  }
  return out;
}

function bindAddress(address: string): string {
  return requireSafe('address', address, 'the load balancer address (--lb-address)');
}

function render(model: LbModel, paths: LbPaths, slotsOf: SlotsOf | undefined): string {
  const lines = [
    '# Written by Gantry from the service catalog; do not edit: it is rewritten on every change.',
    'global',
    `  stats socket ${paths.adminSocket} mode 600 level admin expose-fd listeners`,
    ...(paths.worker ? [`  user ${paths.worker.user}`, `  group ${paths.worker.group}`, `  chroot ${paths.worker.chroot}`] : []),
    // Old workers finish their connections after a reload, but never linger past this.
    '  hard-stop-after 60s',
    '',
    'defaults',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-request 10s',
    '  timeout queue 5s',
    '  timeout check 2s',
    '  retries 3',
    '  option redispatch 1',
    '',
  ];
  const http = model.httpFrontend;
  if (http) {
    lines.push('frontend gantry_http', `  bind ${bindAddress(http.address)}:${http.port}`, '  mode http');
    for (const r of http.routes) lines.push(`  use_backend ${r.backend} if { req.hdr(host),field(1,:),lower -m str ${requireSafe('hostname', r.hostname, `the host name routed to ${r.backend}`)} }`);
    lines.push('  default_backend gantry_no_route', '');
    lines.push('backend gantry_no_route', '  mode http', `  http-request return status 404 content-type text/plain string ${q('gantry: no service has this host name\n').replace('\n', '\\n')}`, '');
  }
  for (const f of model.frontends) {
    lines.push(`frontend ${f.name}`, `  bind ${bindAddress(f.address)}:${f.port}`, `  mode ${f.mode}`, `  default_backend ${f.backend}`, '');
  }
  for (const b of model.backends) lines.push(...backendLines(b, slotsOf?.(b.name) ?? [], slotsOf !== undefined), '');
  return lines.join('\n');
}

/** The configuration HAProxy loads: the model plus the servers in their slots now. */
export function renderConfig(model: LbModel, paths: LbPaths, slotsOf: SlotsOf): string {
  return render(model, paths, slotsOf);
}

/** The part of the configuration whose change needs a reload: everything but slot addresses. */
export function structureOf(model: LbModel, paths: LbPaths): string {
  return render(model, paths, undefined);
}
