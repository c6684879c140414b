// Events: what happened, for humans. Repeats of the same (object, reason, message) within ten
// minutes bump count/lastTime on one Event instead of piling up objects, as Kubernetes does, so a
// crash loop reads as "x27" and not as 27 lines. Old events are garbage-collected by age.
import { API_VERSION, DEFAULT_NAMESPACE, isAppError, type GantryEvent } from '../core/index.js';
import type { NewObject, Store } from '../store/store.js';

export interface InvolvedObject {
  kind: string;
  namespace?: string | undefined;
  name: string;
}

export type EventType = 'Normal' | 'Warning';

export const AGGREGATION_WINDOW_MS = 10 * 60_000;

const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

function sameSubject(e: GantryEvent, involved: InvolvedObject, reason: string, message: string): boolean {
  const i = e.spec.involved;
  return (
    i.kind === involved.kind &&
    (i.namespace ?? '') === (involved.namespace ?? '') &&
    i.name === involved.name &&
    e.spec.reason === reason &&
    e.spec.message === message
  );
}

/**
 * Records an event about `involved`; a repeat within ten minutes of the last one with the same
 * reason and message bumps that event's count. Returns the stored event.
 */
export async function recordEvent(
  store: Store,
  involved: InvolvedObject,
  type: EventType,
  reason: string,
  message: string,
  source: string,
  now: Date = new Date(),
): Promise<GantryEvent> {
  const namespace = involved.namespace ?? DEFAULT_NAMESPACE;
  // Two tries: a concurrent bump of the same event loses the CAS once and then sees it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const { items } = await store.list('Event', { namespace });
    const recent = items
      .filter((e) => sameSubject(e, involved, reason, message))
      .filter((e) => now.getTime() - Date.parse(e.spec.lastTime) < AGGREGATION_WINDOW_MS)
      .sort((a, b) => Date.parse(b.spec.lastTime) - Date.parse(a.spec.lastTime))[0];
    if (!recent) break;
    try {
      return await store.update<GantryEvent>({
        ...recent,
        spec: { ...recent.spec, type, count: recent.spec.count + 1, lastTime: now.toISOString() },
      });
    } catch (err) {
      if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
    }
  }
  const t = now.toISOString();
  const event: NewObject<GantryEvent> = {
    apiVersion: API_VERSION,
    kind: 'Event',
    metadata: { name: `${involved.name}.${randomSuffix()}`, namespace },
    spec: {
      involved: { kind: involved.kind, ...(involved.namespace ? { namespace: involved.namespace } : {}), name: involved.name },
      type,
      reason,
      message,
      source,
      count: 1,
      firstTime: t,
      lastTime: t,
    },
  };
  return store.create<GantryEvent>(event);
}

/** Deletes events whose last occurrence is older than `maxAgeMs`; returns how many. */
export async function gcEvents(store: Store, maxAgeMs = 3_600_000, now: Date = new Date()): Promise<number> {
  const { items } = await store.list('Event');
  let deleted = 0;
  for (const e of items) {
    if (now.getTime() - Date.parse(e.spec.lastTime) <= maxAgeMs) continue;
    try {
      await store.delete('Event', e.metadata.namespace, e.metadata.name, { revision: e.metadata.revision });
      deleted++;
    } catch (err) {
      // Bumped or deleted meanwhile: it is either young again or already gone.
      if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
    }
  }
  return deleted;
}
