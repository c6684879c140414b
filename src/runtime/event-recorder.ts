// Events: what happened, for humans. Repeats of the same (object, reason, message) within ten
// minutes bump count/lastTime on one Event instead of piling up objects, as Kubernetes does, so a
// crash loop reads as "x27" and not as 27 lines. Old events are garbage-collected by age.
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

/**
 * Deletes events whose last occurrence is older than `maxAgeMs`; returns how many. An hour of a
 * 100,000-instance rollout is hundreds of thousands of events: they go in txns of
 * GC_DELETES_PER_TXN (each delete checks the revision it read), not one write each in one go.
 */
export async function gcEvents(store: Store, maxAgeMs = 3_600_000, now: Date = new Date()): Promise<number> {
  const { items } = await store.list('Event');
  const old = items.filter((e) => now.getTime() - Date.parse(e.spec.lastTime) > maxAgeMs);
  let deleted = 0;
  for (let start = 0; start < old.length; start += GC_DELETES_PER_TXN) {
    if (start > 0) await new Promise((r) => setImmediate(r));
    const chunk = old.slice(start, start + GC_DELETES_PER_TXN);
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
