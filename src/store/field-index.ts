// Indexed fields: the few spec fields that lists and watches may select on inside the store, so
// that 5,000 agents each following `spec.node=<its node>` cost O(matching objects) per event and
// per list instead of O(all instances). See store.ts (FieldSelector) for the watch semantics.
import type { AnyObject, Kind } from '../core/index.js';
import { deepFreeze } from './deep-freeze.js';
import type { FieldPath, FieldSelector, WatchEvent } from './store.js';

export const INDEXED_FIELDS: readonly FieldPath[] = ['spec.node', 'spec.service'];

/** The field's value, or undefined when the object does not set it (or sets it to a non-string). */
export function fieldValue(obj: AnyObject, path: FieldPath): string | undefined {
  const spec = (obj as { spec?: Record<string, unknown> }).spec;
  const v = path === 'spec.node' ? spec?.node : spec?.service;
  return typeof v === 'string' ? v : undefined;
}

/** The hub's map key for watches of `kind` (undefined: every kind) selecting `path` = `value`. */
export function fieldKey(kind: Kind | undefined, path: FieldPath, value: string | undefined): string {
  // '=' cannot occur in a path, so "absent" (no '=') never collides with any value, even ''.
  return `${kind ?? '*'}|${path}${value === undefined ? '' : `=${value}`}`;
}

/** A committed change in the hub's history: the event, plus where it came from when that matters. */
export interface HistoryEntry {
  event: WatchEvent;
  /**
   * Only for a MODIFIED that changed an indexed field's value: the value of each INDEXED_FIELDS
   * path before the change (values, not the old object, so the history keeps no extra objects
   * alive). Absent otherwise, also when unknown (the first change of an object in history
   * reloaded from disk): field watches then judge the change by its new object alone.
   */
  before?: readonly (string | undefined)[] | undefined;
}

/** The history entry for a change; `prev` is the object a MODIFIED replaced. */
export function historyEntry(event: WatchEvent, prev: AnyObject | undefined): HistoryEntry {
  if (event.type !== 'MODIFIED' || !prev) return { event };
  for (const path of INDEXED_FIELDS) {
    if (fieldValue(prev, path) !== fieldValue(event.object, path)) return { event, before: INDEXED_FIELDS.map((p) => fieldValue(prev, p)) };
  }
  return { event };
}

/** The value `path` had before the change (its current value when the change did not move it). */
export function valueBefore(entry: HistoryEntry, path: FieldPath): string | undefined {
  return entry.before ? entry.before[INDEXED_FIELDS.indexOf(path)] : fieldValue(entry.event.object, path);
}

/**
 * The change as a watch selecting `field` sees it (Kubernetes' rule), or undefined when it does
 * not concern that watch:
 * - the object matches before and after (or is added/deleted while matching): the event as is;
 * - a MODIFIED moved it INTO the selection: ADDED with the new object;
 * - a MODIFIED moved it OUT of the selection: DELETED at the change's revision, carrying the
 *   object with its indexed fields as they were (so it still matches the selector).
 */
export function fieldView(entry: HistoryEntry, field: FieldSelector): WatchEvent | undefined {
  const e = entry.event;
  const now = fieldValue(e.object, field.path) === field.value;
  const was = entry.before ? valueBefore(entry, field.path) === field.value : now;
  if (now && was) return e;
  if (now) return { type: 'ADDED', revision: e.revision, object: e.object };
  if (was && entry.before) return { type: 'DELETED', revision: e.revision, object: withFieldsBefore(e.object, entry.before) };
  return undefined;
}

/** `obj` with its indexed fields set back to `before` (absent where they were absent). */
function withFieldsBefore(obj: AnyObject, before: readonly (string | undefined)[]): AnyObject {
  const spec: Record<string, unknown> = { ...(obj.spec as Record<string, unknown>) };
  INDEXED_FIELDS.forEach((path, i) => {
    const key = path === 'spec.node' ? 'node' : 'service';
    const v = before[i];
    if (v === undefined) delete spec[key];
    else spec[key] = v;
  });
  // The rest is already frozen and shared; only the new envelope and spec need freezing.
  return deepFreeze({ ...obj, spec } as AnyObject);
}
