// The text of `gantry describe`: metadata as aligned fields, spec and status as indented YAML,
// then the object's events as a table.
import { stringify } from 'yaml';
import type { AnyObject, GantryEvent, Instance } from '../core/index.js';
import { formatAge } from './age.js';
import { formatLabels } from './get-columns.js';
import { formatTable } from './table.js';
import { eventsFor } from './events-about.js';
import { readableQuantities } from './readable-quantities.js';

function indent(text: string, by: string): string {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

function yamlBlock(title: string, value: unknown): string {
  const empty = value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  return empty ? `${title}:  <none>\n` : `${title}:\n${indent(stringify(value, { lineWidth: 0 }), '  ')}\n`;
}

/** describe shows this many of an object's latest events, as kubectl does; `events --for` has all. */
const DESCRIBE_EVENTS = 10;

/** Init containers in order: what ran, how it ended, and how to read its log. */
function initContainersBlock(inst: Instance): string {
  const seen = inst.status?.initContainers ?? [];
  const rows = (inst.spec.initContainers ?? []).map((c) => {
    const st = seen.find((s) => s.name === c.name);
    const state = !st ? 'not run yet' : st.state === 'exited' ? `exited (${st.exitCode ?? '?'})` : st.state;
    return [c.name, state, String(st?.restartCount ?? 0), st?.message ?? ''];
  });
  const hint = `  logs: gantry logs ${inst.metadata.name} -c NAME\n`;
  return `Init Containers:\n${indent(formatTable(['NAME', 'STATE', 'FAILURES', 'MESSAGE'], rows), '  ')}\n${hint}`;
}

/** For a Service: its version and rollout in one line each, above the full status. */
function serviceSummary(obj: AnyObject): [string, string][] {
  if (obj.kind !== 'Service' || !obj.status) return [];
  const st = obj.status;
  const out: [string, string][] = [];
  if (st.version !== undefined) out.push(['Version', `v${st.version} (${st.updatedReplicas ?? 0} up to date, ${st.availableReplicas ?? 0} available, ${st.readyReplicas}/${obj.spec.replicas ?? 1} ready)`]);
  if (st.rollout) out.push(['Rollout', `${st.rollout.phase}: ${st.rollout.message ?? ''}`]);
  return out;
}

/** `sections`: more blocks (the load balancer's) printed before the events. */
export function formatDescribe(obj: AnyObject, events: readonly GantryEvent[], now: Date, sections = ''): string {
  const m = obj.metadata;
  const fields: [string, string][] = [
    ['Name', m.name],
    ...(m.namespace !== undefined ? [['Namespace', m.namespace] as [string, string]] : []),
    ['Kind', obj.kind],
    ['Labels', formatLabels(m.labels)],
    ['Annotations', formatLabels(m.annotations)],
    ['UID', m.uid],
    ['Revision', String(m.revision)],
    ...(m.generation !== undefined ? [['Generation', String(m.generation)] as [string, string]] : []),
    ['Created', `${m.createdAt} (${formatAge(m.createdAt, now)} ago)`],
    ...serviceSummary(obj),
  ];
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  let out = fields.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n') + '\n';
  out += yamlBlock('Spec', readableQuantities(obj.spec, obj.kind === 'Instance'));
  out += yamlBlock('Status', readableQuantities(obj.status));
  if (obj.kind === 'Instance' && (obj.spec.initContainers ?? []).length > 0) out += initContainersBlock(obj);
  out += sections;
  const all = eventsFor(obj, events);
  if (all.length === 0) return `${out}Events:  <none>\n`;
  const mine = all.slice(-DESCRIBE_EVENTS);
  const earlier = all.length - mine.length;
  const ref = `${obj.kind.toLowerCase()}/${m.name}`;
  const more = earlier > 0 ? `  (${earlier} earlier: gantry events --for ${ref}${m.namespace !== undefined && m.namespace !== 'default' ? ` -n ${m.namespace}` : ''})\n` : '';
  const rows = mine.map((e) => [e.spec.type, e.spec.reason, formatAge(e.spec.lastTime, now), e.spec.source, e.spec.count > 1 ? `${e.spec.message} (x${e.spec.count})` : e.spec.message]);
  return `${out}Events:\n${more}${indent(formatTable(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows), '  ')}\n`;
}
