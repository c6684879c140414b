// fieldSelector and labelSelector for lists and watches: one predicate, so a list and the watch
// that follows it always agree on what belongs.
import { AppError, constraintMatches, parseConstraint, type AnyObject, type Constraint } from '../core/index.js';

export const SUPPORTED_FIELDS = ['spec.node', 'spec.service'] as const;
type Field = (typeof SUPPORTED_FIELDS)[number];

export type ObjectPredicate = (obj: AnyObject) => boolean;

function fieldValue(obj: AnyObject, field: Field): string | undefined {
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
        throw new AppError('MALFORMED', `unsupported fieldSelector "${part}"; supported: ${SUPPORTED_FIELDS.map((f) => `${f}=NAME`).join(', ')} (comma-separated, all must match)`);
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
      if (!c) throw new AppError('MALFORMED', `unsupported labelSelector "${part}"; supported: key=value and key!=value, comma-separated`);
      return c;
    });
}

/** Builds the predicate for a request's selectors; undefined when it has none. */
export function selectorPredicate(query: { fieldSelector?: unknown; labelSelector?: unknown }): ObjectPredicate | undefined {
  const fs = typeof query.fieldSelector === 'string' ? parseFieldSelector(query.fieldSelector) : [];
  const ls = typeof query.labelSelector === 'string' ? parseLabelSelector(query.labelSelector) : [];
  if (query.fieldSelector !== undefined && typeof query.fieldSelector !== 'string') throw new AppError('MALFORMED', 'give fieldSelector once');
  if (query.labelSelector !== undefined && typeof query.labelSelector !== 'string') throw new AppError('MALFORMED', 'give labelSelector once');
  if (fs.length === 0 && ls.length === 0) return undefined;
  return (obj) => fs.every((f) => fieldValue(obj, f.field) === f.value) && ls.every((c) => constraintMatches(c, obj.metadata.labels));
}
