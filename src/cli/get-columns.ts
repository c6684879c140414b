// The columns `gantry get` prints for each kind, as pure functions of the objects.
import { formatCpu, formatMemory, isFinished, namespaceOf, nodePressures, type AnyObject, type GantryEvent, type GantryNode, type Instance, type Kind, type Namespace, type Service, type ServiceVersion } from '../core/index.js';
import type { LoadBalancerStatus } from '../client/index.js';
import { formatAge } from './age.js';
import { formatLbColumn } from './lb-format.js';
import { cronJobTable, jobTable } from './job-columns.js';
import { objectRef } from './kind-arg.js';

export interface ColumnOptions {
  wide: boolean;
  /** Adds a NAMESPACE column first (for `-A`). */
  allNamespaces: boolean;
  now: Date;
  /** Live instances per node name (liveInstancesPerNode), for the nodes table; the column is left out when absent. */
  instancesPerNode?: ReadonlyMap<string, number> | undefined;
  /** The instances are job runs (`get instances --jobs`): a JOB column instead of SERVICE. */
  jobRuns?: boolean | undefined;
  /** Load balancer status by `namespace/name`, for the LB column of services with -o wide. */
  loadBalancers?: ReadonlyMap<string, LoadBalancerStatus> | undefined;
}

export interface Table {
  headers: string[];
  rows: string[][];
}

const NONE = '<none>';

function serviceTable(items: Service[], o: ColumnOptions): Table {
  const headers = ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'VERSION', 'AGE', ...(o.wide ? ['ROLLOUT', 'IMAGES', 'GENERATION', 'LB'] : [])];
  const rows = items.map((s) => [
    s.metadata.name,
    `${s.status?.readyReplicas ?? 0}/${s.spec.replicas ?? 0}`,
    String(s.status?.updatedReplicas ?? 0),
    String(s.status?.availableReplicas ?? 0),
    s.status?.version !== undefined ? `v${s.status.version}` : NONE,
    formatAge(s.metadata.createdAt, o.now),
    ...(o.wide ? [s.status?.rollout?.phase ?? NONE] : []),
    ...(o.wide ? [s.spec.containers.map((c) => c.image).join(','), String(s.metadata.generation ?? '')] : []),
    ...(o.wide ? [(s.spec.expose ?? []).length === 0 ? NONE : formatLbColumn(o.loadBalancers?.get(`${namespaceOf(s)}/${s.metadata.name}`))] : []),
  ]);
  return { headers, rows };
}

/** `http:127.0.0.1:32768,admin:127.0.0.1:32769` from the containers' published ports. */
export function formatPorts(i: Instance): string {
  const host = i.status?.hostIP;
  const ports = (i.status?.containers ?? []).flatMap((c) =>
    Object.entries(c.hostPorts).map(([name, port]) => (host ? `${name}:${host}:${port}` : `${name}:${port}`)),
  );
  return ports.length > 0 ? ports.join(',') : NONE;
}

/** Whether an instance is a run of a Job (its spec.service holds the Job's name), not a service's replica. */
export const isJobRun = (i: Instance): boolean => i.spec.ownerKind === 'Job';

/**
 * What runs on each node: instances not finished. A finished job run stays on record (for its log)
 * but no longer occupies the node, so a drained node shows 0.
 */
export function liveInstancesPerNode(instances: readonly Instance[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of instances) if (i.spec.node && !isFinished(i)) out.set(i.spec.node, (out.get(i.spec.node) ?? 0) + 1);
  return out;
}

function instanceTable(items: Instance[], o: ColumnOptions): Table {
  const headers = ['NAME', o.jobRuns ? 'JOB' : 'SERVICE', 'NODE', 'PHASE', 'READY', 'PORTS', 'RESTARTS', 'AGE', ...(o.wide ? ['CONTAINERS', 'MESSAGE'] : [])];
  const rows = items.map((i) => [
    i.metadata.name,
    i.spec.service,
    i.spec.node ?? NONE,
    i.status?.phase ?? 'Pending',
    String(i.status?.ready ?? false),
    formatPorts(i),
    String((i.status?.containers ?? []).reduce((n, c) => n + c.restartCount, 0)),
    formatAge(i.metadata.createdAt, o.now),
    ...(o.wide ? [i.spec.containers.map((c) => c.name).join(','), i.status?.message ?? ''] : []),
  ]);
  return { headers, rows };
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? pairs.join(',') : NONE;
}

function nodeTable(items: GantryNode[], o: ColumnOptions): Table {
  const counts = o.instancesPerNode;
  const headers = ['NAME', 'READY', 'CPU', 'MEMORY', ...(counts ? ['INSTANCES'] : []), 'LABELS', 'AGE', ...(o.wide ? ['DRIVER', 'ADDRESS'] : [])];
  const rows = items.map((n) => [
    n.metadata.name,
    // Like kubectl's SchedulingDisabled: a cordoned or draining node says so where readiness is read.
    `${String(n.status?.ready ?? false)}${n.spec.draining ? ',draining' : n.spec.unschedulable ? ',cordoned' : ''}${nodePressures(n.status?.conditions).map((p) => `,${p}`).join('')}`,
    n.status ? formatCpu(n.status.capacity.cpu) : NONE,
    n.status ? formatMemory(n.status.capacity.memory) : NONE,
    ...(counts ? [String(counts.get(n.metadata.name) ?? 0)] : []),
    formatLabels(n.metadata.labels),
    formatAge(n.metadata.createdAt, o.now),
    ...(o.wide ? [n.status?.driver ?? NONE, n.status?.address ?? n.spec.address ?? NONE] : []),
  ]);
  return { headers, rows };
}

function eventTable(items: GantryEvent[], o: ColumnOptions): Table {
  const rows = items.map((e) => [
    formatAge(e.spec.lastTime, o.now),
    e.spec.type,
    e.spec.reason,
    objectRef(e.spec.involved.kind, e.spec.involved.name),
    // Who saw it: the agent of which node, or which controller.
    ...(o.wide ? [e.spec.source] : []),
    e.spec.count > 1 ? `${e.spec.message} (x${e.spec.count})` : e.spec.message,
  ]);
  return { headers: ['LAST', 'TYPE', 'REASON', 'OBJECT', ...(o.wide ? ['FROM'] : []), 'MESSAGE'], rows };
}

function versionTable(items: ServiceVersion[], o: ColumnOptions): Table {
  const rows = items.map((v) => [
    v.metadata.name,
    v.spec.service,
    `v${v.spec.version}`,
    v.spec.template.containers.map((c) => c.image).join(','),
    v.spec.cause ?? '',
    formatAge(v.metadata.createdAt, o.now),
  ]);
  return { headers: ['NAME', 'SERVICE', 'VERSION', 'IMAGES', 'CAUSE', 'AGE'], rows };
}

/** Kinds without their own columns yet: name and age. */
function plainTable(items: readonly AnyObject[], o: ColumnOptions): Table {
  return { headers: ['NAME', 'AGE'], rows: items.map((n) => [n.metadata.name, formatAge(n.metadata.createdAt, o.now)]) };
}

function namespaceTable(items: Namespace[], o: ColumnOptions): Table {
  return { headers: ['NAME', 'AGE'], rows: items.map((n) => [n.metadata.name, formatAge(n.metadata.createdAt, o.now)]) };
}

function sortKey(o: AnyObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function eventTime(o: AnyObject): string {
  return o.kind === 'Event' ? o.spec.lastTime : '';
}

/** The table for a list of objects of one kind. */
export function tableFor(kind: Kind, unsorted: readonly AnyObject[], o: ColumnOptions): Table {
  // Events read as a timeline, oldest first; everything else by namespace and name, like kubectl.
  const items = [...unsorted].sort((a, b) =>
    kind === 'Event' ? eventTime(a).localeCompare(eventTime(b)) : sortKey(a).localeCompare(sortKey(b)),
  );
  const of = <K extends Kind>(k: K) => items.filter((i): i is Extract<AnyObject, { kind: K }> => i.kind === k);
  let t: Table;
  switch (kind) {
    case 'Service': t = serviceTable(of('Service'), o); break;
    case 'Instance': t = instanceTable(of('Instance'), o); break;
    case 'Node': t = nodeTable(of('Node'), o); break;
    case 'Event': t = eventTable(of('Event'), o); break;
    case 'Namespace': t = namespaceTable(of('Namespace'), o); break;
    case 'Job': t = jobTable(of('Job'), o); break;
    case 'CronJob': t = cronJobTable(of('CronJob'), o); break;
    case 'ServiceVersion': t = versionTable(of('ServiceVersion'), o); break;
    default: t = plainTable(items, o);
  }
  if (!o.allNamespaces || kind === 'Node' || kind === 'Namespace') return t;
  return { headers: ['NAMESPACE', ...t.headers], rows: t.rows.map((r, idx) => [items[idx]?.metadata.namespace ?? '', ...r]) };
}
