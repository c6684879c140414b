// Which events are about one object (describe, `events --for`). Apart from describe-format.ts so
// that `get events` starts without describe's YAML formatter.
import type { AnyObject, GantryEvent } from '../core/index.js';

/**
 * Whether `e` is about this very object: same kind, name and namespace, and its uid (an event
 * recorded while the object did not exist has none: then one from before its creation is not).
 * A deleted and recreated object shares its name, never its uid or its predecessor's events.
 */
export function isAbout(e: GantryEvent, obj: Pick<AnyObject, 'kind' | 'metadata'>): boolean {
  const inv = e.spec.involved;
  if (inv.kind !== obj.kind || inv.name !== obj.metadata.name) return false;
  if (obj.metadata.namespace !== undefined && inv.namespace !== undefined && inv.namespace !== obj.metadata.namespace) return false;
  if (inv.uid !== undefined && obj.metadata.uid !== undefined) return inv.uid === obj.metadata.uid;
  return obj.metadata.createdAt === undefined || e.spec.lastTime >= obj.metadata.createdAt;
}

/** Events about one object (isAbout), oldest first. */
export function eventsFor(obj: AnyObject, events: readonly GantryEvent[]): GantryEvent[] {
  return events.filter((e) => isAbout(e, obj)).sort((a, b) => a.spec.lastTime.localeCompare(b.spec.lastTime));
}
