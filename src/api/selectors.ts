// fieldSelector and labelSelector for lists and watches: one predicate, so a list and the watch
// that follows it always agree on what belongs. One field term is handed down to the store,
// which serves it from an index (an agent's `spec.node=<node>` among 100,000 instances); the
// store applies it to lists and watches alike, so the agreement holds.
import { constraintMatches, MalformedError, parseConstraint, type AnyObject, type Constraint } from '../core/index.js';
import type { FieldSelector } from '../store/store.js';

const SUPPORTED_FIELDS = ['spec.node', 'spec.service', 'status.phase'] as const;
type Field = (typeof SUPPORTED_FIELDS)[number];
/** Fields the store keeps an index of; the others are checked here only. */
const INDEXED: readonly Field[] = ['spec.node', 'spec.service'];

export type ObjectPredicate = (obj: AnyObject) => boolean;

function fieldValue(obj: AnyObject, field: Field): string | undefined {
  if (field === 'status.phase') {
    const phase = (obj as { status?: { phase?: unknown } }).status?.phase;
    return typeof phase === 'string' ? phase : undefined;
  }
  const spec = obj.spec as Record<string, unknown>;
  const v = field === 'spec.node' ? spec.node : spec.service;
  return typeof v === 'string' ? v : undefined;
}

function parseFieldSelector(text: string): { field: Field; value: string | undefined }[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([a-zA-Z.]+)=(.*)$/.exec(part);
      const field = m?.[1] as Field | undefined;
      if (!m || !field || !SUPPORTED_FIELDS.includes(field)) {
        throw new MalformedError(`unsupported fieldSelector "${part}"; supported: ${SUPPORTED_FIELDS.map((f) => `${f}=NAME`).join(', ')} (comma-separated, all must match)`);
      }
      // `spec.node=` selects unbound instances: an empty value matches an absent field.
      return { field, value: m[2] === '' ? undefined : m[2] };
    });
}

function parseLabelSelector(text: string): Constraint[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const c = parseConstraint(part);
      if (!c) throw new MalformedError(`unsupported labelSelector "${part}"; supported: key=value and key!=value, comma-separated`);
      return c;
    });
}

export interface Selection {
  /** The term the store selects by (its index); undefined when there is no field term. */
  field: FieldSelector | undefined;
  /** Every other term, checked here; undefined when nothing is left to check. */
  predicate: ObjectPredicate | undefined;
}

type SelectorQuery = { fieldSelector?: unknown; labelSelector?: unknown };

function parseQuery(query: SelectorQuery): { fs: { field: Field; value: string | undefined }[]; ls: Constraint[] } {
  if (query.fieldSelector !== undefined && typeof query.fieldSelector !== 'string') throw new MalformedError('give fieldSelector once');
  if (query.labelSelector !== undefined && typeof query.labelSelector !== 'string') throw new MalformedError('give labelSelector once');
  const fs = typeof query.fieldSelector === 'string' ? parseFieldSelector(query.fieldSelector) : [];
  const ls = typeof query.labelSelector === 'string' ? parseLabelSelector(query.labelSelector) : [];
  return { fs, ls };
}

function predicateOf(fs: readonly { field: Field; value: string | undefined }[], ls: readonly Constraint[]): ObjectPredicate | undefined {
  if (fs.length === 0 && ls.length === 0) return undefined;
  return (obj) => fs.every((f) => fieldValue(obj, f.field) === f.value) && ls.every((c) => constraintMatches(c, obj.metadata.labels));
}

/** Builds the predicate for a request's selectors (all terms); undefined when it has none. */
export function selectorPredicate(query: SelectorQuery): ObjectPredicate | undefined {
  const { fs, ls } = parseQuery(query);
  return predicateOf(fs, ls);
}

/**
 * Splits a request's selectors into the field term the store serves from its index (spec.node
 * first: ~20 instances per node against thousands per service) and a predicate for the rest.
 */
export function selectorSelection(query: SelectorQuery): Selection {
  const { fs, ls } = parseQuery(query);
  const pushed = fs.find((f) => f.field === 'spec.node') ?? fs.find((f) => INDEXED.includes(f.field));
  const rest = fs.filter((f) => f !== pushed);
  return { field: pushed && { path: pushed.field as FieldSelector['path'], value: pushed.value }, predicate: predicateOf(rest, ls) };
}

/**
 * status.phase selects lists only: a watch filtered on it would never see an object leave the
 * phase (the store judges enter and leave for its indexed fields alone).
 */
export function refuseUnwatchable(query: SelectorQuery): void {
  if (parseQuery(query).fs.some((f) => f.field === 'status.phase')) {
    throw new MalformedError('fieldSelector status.phase selects lists only; watch without it (spec.node and spec.service work) and filter the events');
  }
}
