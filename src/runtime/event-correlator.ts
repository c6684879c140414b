// Folds the agents' similar events across nodes, as kubelet's event aggregator folds them on one
// node: once FOLD_AFTER (10) Normal events of one reason about instances of one service were
// recorded within the window (10 minutes), the next ones are held for HOLD_MS (2 s) and written as
// one event on the Service with the count and the names ("Started: 37 instances (web-a, web-b, ...
// and 32 more); web-a: started container web"). A service placed on 5,000 nodes then costs about
// ten events and one more per two seconds of its rollout, not one store write per instance: each
// agent's own fold (event-reporter.ts) sees one or two of its instances per batch.
//
// Warnings, events about other kinds and events about instances the store no longer has pass
// straight through, as do the first FOLD_AFTER of each kind: a single restart or a small service
// shows on its instance at once. Held events are history, not state: they are answered as taken,
// and a crash, or a store error when they are written, loses them (at most HOLD_MS of them;
// close() writes what is held).
import type { Logger } from 'pino';
import { combinedEventMessage, describeError, type Store } from '../core/index.js';
import type { EventInput, EventRecorder } from './event-recorder.js';

/** Similar events recorded one by one before the rest are folded (kubelet's aggregator: 10). */
export const FOLD_AFTER = 10;
/** How long folded events wait for similar ones before they are written as one. */
export const HOLD_MS = 2000;
/** How long the FOLD_AFTER count lasts before similar events are recorded one by one again. */
export const FOLD_WINDOW_MS = 10 * 60_000;
/** Keys kept before the expired ones are dropped. */
const KEYS_SOFT_LIMIT = 10_000;

export interface EventCorrelatorOptions {
  logger: Logger;
  now?: (() => number) | undefined;
  holdMs?: number | undefined;
  foldAfter?: number | undefined;
  windowMs?: number | undefined;
}

interface Held {
  input: EventInput;
  source: string;
}

/** One (namespace, service, reason): how many went straight through in the window, and what waits. */
interface Similar {
  namespace: string;
  service: string;
  reason: string;
  windowStart: number;
  passed: number;
  held: Held[];
  timer: NodeJS.Timeout | undefined;
}

export class EventCorrelator {
  private readonly similar = new Map<string, Similar>();
  private readonly writes = new Set<Promise<void>>();
  private closed = false;
  private readonly now: () => number;
  private readonly holdMs: number;
  private readonly foldAfter: number;
  private readonly windowMs: number;

  constructor(
    private readonly recorder: EventRecorder,
    private readonly store: Store,
    private readonly opts: EventCorrelatorOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.holdMs = opts.holdMs ?? HOLD_MS;
    this.foldAfter = opts.foldAfter ?? FOLD_AFTER;
    this.windowMs = opts.windowMs ?? FOLD_WINDOW_MS;
  }

  /** Events held for folding now (tests, metrics). */
  get heldCount(): number {
    let n = 0;
    for (const s of this.similar.values()) n += s.held.length;
    return n;
  }

  /**
   * Records what may not be folded now (one recorder batch) and holds the rest. Resolves once the
   * former are stored; held events are written within holdMs.
   */
  async recordAll(inputs: readonly EventInput[], source: string): Promise<void> {
    const now = this.now();
    const direct: EventInput[] = [];
    // What this call counted and held, taken back if the direct write fails: the agent sends the
    // whole batch again, and its held part must not be stored twice.
    const counted: Similar[] = [];
    const held: [Similar, Held][] = [];
    for (const input of inputs) {
      const similar = this.closed ? undefined : await this.similarOf(input, now);
      if (!similar) {
        direct.push(input);
      } else if (similar.held.length === 0 && similar.passed < this.foldAfter) {
        similar.passed++;
        counted.push(similar);
        direct.push(input);
      } else {
        const h = { input, source };
        held.push([similar, h]);
        similar.held.push(h);
        if (!similar.timer) {
          similar.timer = setTimeout(() => this.release(similar), this.holdMs);
          similar.timer.unref();
        }
      }
    }
    // close() ran while this call read the store: what it held goes now, not on a timer.
    if (this.closed) for (const [similar] of held) this.release(similar);
    if (direct.length === 0) return;
    try {
      await this.recorder.recordAll(direct, source);
    } catch (e) {
      for (const s of counted) s.passed--;
      for (const [similar, h] of held) similar.held = similar.held.filter((x) => x !== h);
      throw e;
    }
  }

  /** Writes everything held now and waits for it (tests; close). */
  async flush(): Promise<void> {
    for (const s of this.similar.values()) if (s.held.length > 0) this.release(s);
    await Promise.all([...this.writes]);
  }

  /** Writes what is held; later events go straight to the recorder. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** The fold an event belongs to, or undefined when it passes straight through. */
  private async similarOf(input: EventInput, now: number): Promise<Similar | undefined> {
    const { involved } = input;
    if (input.type !== 'Normal' || involved.kind !== 'Instance' || involved.namespace === undefined) return undefined;
    const instance = await this.store.get('Instance', involved.namespace, involved.name).catch(() => undefined);
    const service = instance?.spec.service;
    if (service === undefined) return undefined;
    const key = `${involved.namespace}/${service}/${input.reason}`;
    let similar = this.similar.get(key);
    if (similar && similar.held.length === 0 && now - similar.windowStart >= this.windowMs) {
      similar.windowStart = now;
      similar.passed = 0;
    }
    if (!similar) {
      if (this.similar.size >= KEYS_SOFT_LIMIT) this.dropExpired(now);
      // Still full of live windows: this one is not counted (recorded at once, as before folding).
      if (this.similar.size >= KEYS_SOFT_LIMIT) return undefined;
      similar = { namespace: involved.namespace, service, reason: input.reason, windowStart: now, passed: 0, held: [], timer: undefined };
      this.similar.set(key, similar);
    }
    return similar;
  }

  private release(similar: Similar): void {
    if (similar.timer) clearTimeout(similar.timer);
    similar.timer = undefined;
    const held = similar.held;
    similar.held = [];
    if (held.length === 0) return;
    const write = this.writeHeld(similar, held)
      .catch((e: unknown) => {
        this.opts.logger.warn({ err: describeError(e), service: `${similar.namespace}/${similar.service}`, reason: similar.reason, events: held.length }, 'could not record folded events; dropped them');
      })
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private async writeHeld(similar: Similar, held: readonly Held[]): Promise<void> {
    const [first] = held;
    if (!first) return;
    if (held.length === 1) {
      await this.recorder.recordAll([first.input], first.source);
      return;
    }
    const sources = new Set(held.map((h) => h.source));
    const combined: EventInput = {
      involved: { kind: 'Service', namespace: similar.namespace, name: similar.service },
      type: 'Normal',
      reason: similar.reason,
      message: combinedEventMessage(
        held.map((h) => h.input.involved.name),
        { name: first.input.involved.name, message: first.input.message },
      ),
    };
    await this.recorder.recordAll([combined], sources.size === 1 ? first.source : 'agents');
  }

  private dropExpired(now: number): void {
    for (const [key, s] of this.similar) if (s.held.length === 0 && now - s.windowStart >= this.windowMs) this.similar.delete(key);
  }
}
