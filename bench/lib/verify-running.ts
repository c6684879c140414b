// The end-of-run check of the end-to-end scenarios: one full list of instances (and nodes), so
// "every instance is Running" is what the API says, not only what the watch accumulated.
import type { GantryNode, Instance } from '../../src/core/index.js';
import { PROBE_SERVICE, PROBE_STATIC_SERVICE } from './api-probe.js';
import type { LiveSession } from './live-session.js';
import type { ServiceManifest } from './live-workload.js';

export interface RunningCheck {
  /** Seconds the full instance list took to answer. */
  listSeconds: number;
  running: number;
  total: number;
  violations: string[];
}

/** Every instance of `services` Running, none extra, each on a ready node that meets its constraints. */
export async function verifyAllRunning(session: LiveSession, services: readonly ServiceManifest[], okNode: (node: GantryNode) => boolean = () => true): Promise<RunningCheck> {
  const client = session.cluster.client;
  const wanted = new Map(services.map((s) => [s.metadata.name, s]));
  const expected = services.reduce((n, s) => n + (s.spec.replicas ?? 1), 0);
  const t0 = performance.now();
  const { items } = await client.list('Instance', { namespace: 'default' });
  const listSeconds = (performance.now() - t0) / 1000;
  const nodes = new Map((await client.list('Node')).items.map((n) => [n.metadata.name, n]));

  // Everything but the probe's own service is workload: instances of deleted services count as extra.
  const mine = items.filter((i) => i.spec.service !== PROBE_SERVICE && i.spec.service !== PROBE_STATIC_SERVICE);
  const violations: string[] = [];
  const running = mine.filter((i) => i.status?.phase === 'Running');
  if (running.length !== expected) violations.push(`${running.length} of ${expected} workload instances are Running on the final list (phases: ${phaseCounts(mine)})`);
  if (mine.length !== expected) violations.push(`the final list holds ${mine.length} workload instances, expected exactly ${expected}`);
  let misplaced = 0;
  let firstMisplaced = '';
  for (const inst of running) {
    const node = inst.spec.node === undefined ? undefined : nodes.get(inst.spec.node);
    const constraints = wanted.get(inst.spec.service)?.spec.placement?.constraints ?? [];
    const ok = node !== undefined && node.status?.ready === true && okNode(node) && constraints.every((c) => meets(node, c));
    if (!ok) {
      misplaced++;
      firstMisplaced ||= `${inst.metadata.name} on ${inst.spec.node ?? '(no node)'}`;
    }
  }
  if (misplaced > 0) violations.push(`${misplaced} Running instances are on a missing, not-ready or non-matching node (first: ${firstMisplaced})`);
  return { listSeconds, running: running.length, total: mine.length, violations };
}

function meets(node: GantryNode, constraint: string): boolean {
  const m = constraint.match(/^([^!=]+)(!?=)(.*)$/);
  if (!m) return true;
  const [, key = '', op, value] = m;
  const actual = node.metadata.labels?.[key];
  return op === '=' ? actual === value : actual !== value;
}

function phaseCounts(items: readonly Instance[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.status?.phase ?? 'none', (counts.get(i.status?.phase ?? 'none') ?? 0) + 1);
  return [...counts].map(([p, n]) => `${p} ${n}`).join(', ') || 'none';
}
