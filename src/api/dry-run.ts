// `?dryRun=true` on apply: what the apply would do, without writing. Validation has run already
// (parseManifest: 422 with field paths); here admission (quotas, profile), the revision the caller
// pinned, a line diff of what the user owns (labels, annotations, spec) and, for a Service, a
// placement preview: the pure scheduler over the nodes and instances this server holds now. Any
// server answers it, leader or not: nothing is written and no controller is asked.
import { stringify } from 'yaml';
import {
  canonicalJson,
  StaleRevisionError,
  sumResources,
  templateOf,
  namespaceOf,
  type DryRunResult,
  type Instance,
  type Manifest,
  type PlacementPreview,
  type Service,
} from '../core/index.js';
import { buildNodeSnapshots, holdsResources, hostPortsOf, schedule, type PlacementRequest } from '../scheduler/index.js';
import type { Store } from '../store/store.js';
import { mergeApply, requireNamespace } from './apply.js';
import { admitManifest } from './admission.js';
import { lineDiff } from './line-diff.js';

/** The part of an object a user owns, as YAML lines (what the diff compares). */
function ownedYaml(o: { metadata: { labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined }; spec?: unknown } | undefined): string[] {
  if (!o) return [];
  const { labels, annotations } = o.metadata;
  const owned = { metadata: { ...(labels && Object.keys(labels).length ? { labels } : {}), ...(annotations && Object.keys(annotations).length ? { annotations } : {}) }, spec: o.spec ?? {} };
  if (Object.keys(owned.metadata).length === 0) return stringify({ spec: owned.spec }, { sortMapEntries: true }).trimEnd().split('\n');
  return stringify(owned, { sortMapEntries: true }).trimEnd().split('\n');
}

export async function dryRunApply(store: Store, m: Manifest): Promise<DryRunResult> {
  await requireNamespace(store, m.kind, m.metadata.namespace);
  const existing = await store.get(m.kind, m.metadata.namespace, m.metadata.name);
  const pinned = m.metadata.revision;
  if (existing && pinned !== undefined && pinned !== existing.metadata.revision) {
    const now = existing.metadata.revision ?? 0;
    throw new StaleRevisionError(m.kind, m.metadata.namespace, m.metadata.name, now, `${m.kind} ${m.metadata.name} changed since revision ${pinned} (now ${now}): plan again`);
  }
  const changed = existing ? mergeApply(existing, m) : undefined;
  const result = !existing ? 'created' : changed ? 'configured' : 'unchanged';
  if (result !== 'unchanged') await admitManifest(store, m, existing);
  const diff = lineDiff(ownedYaml(existing), ownedYaml(m));
  const placement = m.kind === 'Service' ? await previewPlacement(store, m as unknown as Service, existing as Service | undefined) : undefined;
  return { dryRun: true, result, revision: existing?.metadata.revision ?? 0, diff, ...(placement ? { placement } : {}) };
}

/**
 * Where a Service's replicas would land. A changed template replaces every instance (a rollout):
 * the service's own instances leave the snapshot and all replicas are placed. The same template
 * keeps the running ones: only the replicas beyond them are placed.
 */
export async function previewPlacement(store: Store, service: Service, existing: Service | undefined): Promise<PlacementPreview> {
  const [nodes, instances] = await Promise.all([store.list('Node'), store.list('Instance')]);
  const ns = namespaceOf(service);
  const own = (i: Instance): boolean => namespaceOf(i) === ns && i.spec.service === service.metadata.name;
  const sameTemplate = existing !== undefined && canonicalJson(templateOf(existing)) === canonicalJson(templateOf(service));
  const running = instances.items.filter((i) => own(i) && holdsResources(i));
  const kept = sameTemplate ? running : [];
  const others = instances.items.filter((i) => !own(i) || kept.includes(i));
  const replicas = service.spec.replicas ?? 1;
  const toPlace = Math.max(0, replicas - kept.length);
  const requests: PlacementRequest[] = [];
  for (let i = 0; i < toPlace; i++) {
    requests.push({
      id: `${ns}/${service.metadata.name}-preview-${i}`,
      serviceKey: `${ns}/${service.metadata.name}`,
      resources: sumResources(service.spec.containers),
      hostPorts: hostPortsOf(service.spec.containers),
      constraints: service.spec.placement?.constraints ?? [],
      spread: service.spec.placement?.spread ?? [],
    });
  }
  const plan = schedule(buildNodeSnapshots(nodes.items, others), requests, { seed: 1 }, instances.revision);
  const byNode = countBy(plan.placements.map((p) => p.node));
  const byReason = countBy(plan.failures.map((f) => f.reason));
  const placed = [...byNode].map(([node, count]) => ({ node, count })).sort((a, b) => b.count - a.count || a.node.localeCompare(b.node));
  const failures = [...byReason].map(([reason, count]) => ({ count, reason }));
  return { replicas, nodes: placed, failures, summary: summarize(toPlace, kept.length, placed, failures) };
}

function countBy(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

function summarize(toPlace: number, kept: number, placed: PlacementPreview['nodes'], failures: PlacementPreview['failures']): string {
  const parts: string[] = [];
  if (kept > 0) parts.push(`${kept} running stay`);
  if (toPlace === 0) parts.push('nothing to place');
  const placedCount = placed.reduce((n, p) => n + p.count, 0);
  if (placedCount > 0) parts.push(`${placedCount} to place: ${placed.map((p) => `${p.count} on ${p.node}`).join(', ')}`);
  for (const f of failures) parts.push(`${f.count} cannot be placed: ${f.reason}`);
  return parts.join('; ');
}
