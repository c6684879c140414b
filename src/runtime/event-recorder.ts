// Events: what happened, for humans. Repeats of the same (object, reason, message) within ten
// minutes bump count/lastTime on one Event instead of piling up objects, as Kubernetes does, so a
// crash loop reads as "x27" and not as 27 lines. Old events are compacted by age and count
// (gcEvents, run by the leader's controllers every minute).
//
// The EventRecorder finds the event to bump through an in-memory index (involved + reason +
// message -> event name), filled by one list per namespace the first time it writes there, so a
// batch of a thousand agent events costs one store transaction and no lists. The server builds one
// recorder and shares it between the API and the controllers; writes go through it one batch at a
// time, which is what keeps two repeats from creating two events.
import { API_VERSION, DEFAULT_NAMESPACE, isAppError, namespaceOf, resolveKind, type GantryEvent, type NewObject, type Store, type TxnOp } from '../core/index.js';

export interface InvolvedObject {
  kind: string;
  namespace?: string | undefined;
  name: string;
  /** The object's uid; the recorder fills it from the store when the object exists. */
  uid?: string | undefined;
}

export type EventType = 'Normal' | 'Warning';

/** One event to record, as the API takes it. */
export interface EventInput {
  involved: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
}

const AGGREGATION_WINDOW_MS = 10 * 60_000;

const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

function keyOf(involved: InvolvedObject, reason: string, message: string): string {
  return JSON.stringify([involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '', reason, message]);
}

function keyOfEvent(e: GantryEvent): string {
  return keyOf(e.spec.involved, e.spec.reason, e.spec.message);
}

interface IndexEntry {
  namespace: string;
  name: string;
  lastMs: number;
}

interface Group {
  input: EventInput;
  namespace: string;
  count: number;
  /** Positions in the batch, to answer each input with its stored event. */
  positions: number[];
}

export interface EventRecorderOptions {
  now?: () => Date;
  /** Index entries above which entries older than the window are pruned; default 10,000. */
  indexSoftLimit?: number;
}

export class EventRecorder {
  private readonly index = new Map<string, IndexEntry>();
  private readonly warmed = new Set<string>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;
  private pruneAt: number;

  constructor(
    private readonly store: Store,
    private readonly opts: EventRecorderOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.pruneAt = opts.indexSoftLimit ?? 10_000;
  }

  /** Records one event about `involved`; returns the stored (new or bumped) event. */
  async record(involved: InvolvedObject, type: EventType, reason: string, message: string, source: string, now?: Date): Promise<GantryEvent> {
    const [event] = await this.recordAll([{ involved, type, reason, message }], source, now);
    return event!;
  }

  /**
   * Records a batch in one store transaction: repeats within the batch and of recent events add
   * to their count. Returns the stored event for each input, in order.
   */
  recordAll(inputs: readonly EventInput[], source: string, now: Date = this.now()): Promise<GantryEvent[]> {
    const run = this.tail.then(
      () => this.write(inputs, source, now),
      () => this.write(inputs, source, now),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async write(inputs: readonly EventInput[], source: string, now: Date): Promise<GantryEvent[]> {
    if (inputs.length === 0) return [];
    const groups = groupInputs(inputs);
    // Events belong to an object's uid, not its name: a service deleted and made again under the
    // same name starts with no events (readers match on the uid).
    for (const g of groups) g.input = { ...g.input, involved: { ...g.input.involved, uid: g.input.involved.uid ?? (await this.uidOf(g.input.involved)) } };
    for (const ns of new Set(groups.map((g) => g.namespace))) await this.warm(ns);
    for (let attempt = 0; ; attempt++) {
      const ops = await Promise.all(groups.map((g) => this.opFor(g, source, now)));
      try {
        const stored = await this.commit(ops);
        const out: GantryEvent[] = new Array<GantryEvent>(inputs.length);
        stored.forEach((e, i) => {
          this.index.set(keyOfEvent(e), { namespace: namespaceOf(e), name: e.metadata.name, lastMs: now.getTime() });
          for (const p of groups[i]!.positions) out[p] = e;
        });
        this.prune(now.getTime());
        return out;
      } catch (err) {
        // Another writer bumped or deleted (gc) an event we meant to bump: read again once.
        if (attempt > 0 || (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND'))) throw err;
      }
    }
  }

  private async uidOf(involved: InvolvedObject): Promise<string | undefined> {
    const info = resolveKind(involved.kind);
    if (!info) return undefined;
    const obj = await this.store.get(info.kind, info.namespaced ? (involved.namespace ?? DEFAULT_NAMESPACE) : undefined, involved.name).catch(() => undefined);
    return obj?.metadata.uid;
  }

  /** One op is a plain write (most events come alone); more are one transaction. */
  private async commit(ops: readonly TxnOp[]): Promise<GantryEvent[]> {
    const [only] = ops;
    if (ops.length === 1 && only?.op === 'create') return [await this.store.create<GantryEvent>(only.object as NewObject<GantryEvent>)];
    if (ops.length === 1 && only?.op === 'update') return [await this.store.update(only.object as GantryEvent)];
    return (await this.store.txn(ops)).map((r) => r.object as GantryEvent);
  }

  /** Indexes the recent events of a namespace once, so events from before a restart aggregate. */
  private async warm(namespace: string): Promise<void> {
    if (this.warmed.has(namespace)) return;
    const { items } = await this.store.list('Event', { namespace });
    for (const e of items) {
      const key = keyOfEvent(e);
      const lastMs = Date.parse(e.spec.lastTime);
      const known = this.index.get(key);
      if (!known || known.lastMs < lastMs) this.index.set(key, { namespace, name: e.metadata.name, lastMs });
    }
    this.warmed.add(namespace);
  }

  private async opFor(g: Group, source: string, now: Date): Promise<TxnOp> {
    const { involved, type, reason, message } = g.input;
    const t = now.toISOString();
    const entry = this.index.get(keyOf(involved, reason, message));
    const recent = entry && (await this.store.get('Event', entry.namespace, entry.name));
    if (recent && now.getTime() - Date.parse(recent.spec.lastTime) < AGGREGATION_WINDOW_MS) {
      return { op: 'update', object: { ...recent, spec: { ...recent.spec, type, count: recent.spec.count + g.count, lastTime: t } } };
    }
    const event: NewObject<GantryEvent> = {
      apiVersion: API_VERSION,
      kind: 'Event',
      metadata: { name: `${involved.name}.${randomSuffix()}`, namespace: g.namespace },
      spec: {
        involved: { kind: involved.kind, ...(involved.namespace ? { namespace: involved.namespace } : {}), name: involved.name, ...(involved.uid ? { uid: involved.uid } : {}) },
        type,
        reason,
        message,
        source,
        count: g.count,
        firstTime: t,
        lastTime: t,
      },
    };
    return { op: 'create', object: event };
  }

  /** Drops index entries too old to aggregate with, once the index has grown. */
  private prune(nowMs: number): void {
    if (this.index.size <= this.pruneAt) return;
    for (const [key, e] of this.index) if (nowMs - e.lastMs >= AGGREGATION_WINDOW_MS) this.index.delete(key);
    this.pruneAt = Math.max(this.opts.indexSoftLimit ?? 10_000, this.index.size * 2);
  }
}

function groupInputs(inputs: readonly EventInput[]): Group[] {
  const groups = new Map<string, Group>();
  inputs.forEach((input, i) => {
    const key = keyOf(input.involved, input.reason, input.message);
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.input = input; // the latest type wins, as with a bump
      g.positions.push(i);
    } else {
      groups.set(key, { input, namespace: input.involved.namespace ?? DEFAULT_NAMESPACE, count: 1, positions: [i] });
    }
  });
  return [...groups.values()];
}

/**
 * Records an event about `involved` with a one-off recorder (one list of the namespace). Long-lived
 * callers share an EventRecorder instead.
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
  return new EventRecorder(store).record(involved, type, reason, message, source, now);
}

/** Deletes per txn when collecting old events; the event loop gets a turn between txns. */
export const GC_DELETES_PER_TXN = 1000;

/** What the server keeps of events (server --event-ttl, --max-events). */
export interface EventRetention {
  /** An event whose last occurrence is older than this is deleted; default 1 h (Kubernetes' --event-ttl). */
  maxAgeMs: number;
  /** At most this many events in the cluster: beyond, the oldest go; default 200,000. */
  maxCount: number;
  /**
   * At most this many per involved object (Nomad keeps 10 per allocation): an object that keeps
   * failing in new words cannot push every other object's events out; default 100.
   */
  maxPerObject: number;
}

export const DEFAULT_EVENT_RETENTION: EventRetention = { maxAgeMs: 3_600_000, maxCount: 200_000, maxPerObject: 100 };

/** How many events each rule deleted (an event is counted under the first rule that took it). */
export interface EventGcResult {
  deleted: number;
  byAge: number;
  byObject: number;
  byCount: number;
}

/**
 * The `excess` oldest of `events`, without sorting them all: counts per minute of lastTime (ISO
 * strings, so a prefix is a minute), then whole minutes from the oldest, then the oldest of the
 * minute where the cut falls. A pass over 200,000 events stays a few milliseconds.
 */
function oldest(events: readonly GantryEvent[], excess: number): GantryEvent[] {
  if (excess <= 0) return [];
  const byMinute = new Map<string, GantryEvent[]>();
  for (const e of events) {
    const minute = e.spec.lastTime.slice(0, 16);
    const list = byMinute.get(minute);
    if (list) list.push(e);
    else byMinute.set(minute, [e]);
  }
  const out: GantryEvent[] = [];
  for (const minute of [...byMinute.keys()].sort()) {
    const list = byMinute.get(minute)!;
    const wanted = excess - out.length;
    if (list.length <= wanted) out.push(...list);
    else {
      list.sort((x, y) => (x.spec.lastTime < y.spec.lastTime ? -1 : x.spec.lastTime > y.spec.lastTime ? 1 : 0));
      out.push(...list.slice(0, wanted));
    }
    if (out.length >= excess) break;
  }
  return out;
}

function involvedKey(e: GantryEvent): string {
  const i = e.spec.involved;
  return i.uid ?? `${i.kind}/${i.namespace ?? ''}/${i.name}`;
}

/** Which events to delete: past the age, then past the per-object count, then past the total count. */
export function eventsToCollect(items: readonly GantryEvent[], retention: EventRetention, nowMs: number): { byAge: GantryEvent[]; byObject: GantryEvent[]; byCount: GantryEvent[] } {
  const byAge: GantryEvent[] = [];
  const perObject = new Map<string, GantryEvent[]>();
  for (const e of items) {
    if (nowMs - Date.parse(e.spec.lastTime) > retention.maxAgeMs) {
      byAge.push(e);
      continue;
    }
    const key = involvedKey(e);
    const list = perObject.get(key);
    if (list) list.push(e);
    else perObject.set(key, [e]);
  }
  const byObject: GantryEvent[] = [];
  const kept: GantryEvent[] = [];
  for (const list of perObject.values()) {
    if (list.length <= retention.maxPerObject) {
      for (const e of list) kept.push(e);
      continue;
    }
    const dropped = new Set(oldest(list, list.length - retention.maxPerObject));
    for (const e of list) (dropped.has(e) ? byObject : kept).push(e);
  }
  const byCount = oldest(kept, kept.length - retention.maxCount);
  return { byAge, byObject, byCount };
}

/**
 * Compacts events by age and count (`retention`); returns how many each rule deleted. An hour of a
 * 100,000-instance rollout is hundreds of thousands of events: they go in txns of
 * GC_DELETES_PER_TXN (each delete checks the revision it read), not one write each in one go.
 */
export async function gcEvents(store: Store, retention: EventRetention = DEFAULT_EVENT_RETENTION, now: Date = new Date()): Promise<EventGcResult> {
  const { items } = await store.list('Event');
  const picked = eventsToCollect(items, retention, now.getTime());
  const result: EventGcResult = { deleted: 0, byAge: 0, byObject: 0, byCount: 0 };
  for (const rule of ['byAge', 'byObject', 'byCount'] as const) {
    const n = await deleteEvents(store, picked[rule]);
    result[rule] = n;
    result.deleted += n;
  }
  return result;
}

async function deleteEvents(store: Store, events: readonly GantryEvent[]): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < events.length; start += GC_DELETES_PER_TXN) {
    if (start > 0) await new Promise((r) => setImmediate(r));
    const chunk = events.slice(start, start + GC_DELETES_PER_TXN);
    try {
      await store.txn(chunk.map((e): TxnOp => ({ op: 'delete', kind: 'Event', namespace: e.metadata.namespace, name: e.metadata.name, revision: e.metadata.revision })));
      deleted += chunk.length;
    } catch (err) {
      if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
      // One was bumped or deleted meanwhile: this chunk one by one, skipping those.
      for (const e of chunk) if (await deleteIfUnchanged(store, e)) deleted++;
    }
  }
  return deleted;
}

async function deleteIfUnchanged(store: Store, e: GantryEvent): Promise<boolean> {
  try {
    await store.delete('Event', e.metadata.namespace, e.metadata.name, { revision: e.metadata.revision });
    return true;
  } catch (err) {
    // Bumped or deleted meanwhile: it is either young again or already gone.
    if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
    return false;
  }
}
