// What the API says about every instance, kept current by one watch stream (list, then watch,
// resumed on disconnect: the Informer of src/runtime over the client), the way Kubernetes density tests time pod
// startup from an informer. Polling lists cannot see when an instance was bound without fetching
// every instance again; the watch delivers each binding and each status change once, at the
// moment the API makes it visible. The counts below keep a few fields per instance; the
// informer's cache holds the objects themselves (one reference each, not a copy).
import type { ClientWatchEvent, GantryClient } from '../../src/client/index.js';
import { isFinishedPhase, type AnyObject, type InstancePhase } from '../../src/core/index.js';
import { Informer } from '../../src/runtime/informer.js';
import { settledWithin } from './sleep.js';

export interface TrackedInstance {
  readonly service: string;
  readonly node: string | undefined;
  readonly phase: InstancePhase;
}
type Tracked = TrackedInstance;

/** Not Failed, Lost or Succeeded: the instance counts towards its service. */
export function isLive(i: TrackedInstance): boolean {
  return !isFinishedPhase(i.phase);
}

export interface TimelinePoint {
  atMs: number;
  running: number;
  bound: number;
}

export class InstanceTracker {
  /** Bench-clock ms at which an instance was first seen bound (spec.node set): placements. */
  readonly bindTimes: number[] = [];
  /** Bench-clock ms at which an instance was first seen Running. */
  readonly runningTimes: number[] = [];
  readonly timeline: TimelinePoint[] = [];
  private readonly byName = new Map<string, Tracked>();
  private readonly everBound = new Set<string>();
  private readonly everRunning = new Set<string>();
  private running = 0;
  private bound = 0;
  private readonly perService = new Map<string, { running: number; bound: number; present: number }>();
  private synced = false;
  private readonly stopper = new AbortController();
  private readonly done: Promise<void>;
  private readonly sampler: NodeJS.Timeout;

  constructor(
    client: GantryClient,
    private readonly now: () => number,
    /** Instances of these services are not counted (the probe's own service). */
    private readonly ignoreServices: ReadonlySet<string>,
    signal: AbortSignal,
    sampleEveryMs = 250,
  ) {
    const linked = AbortSignal.any([signal, this.stopper.signal]);
    const informer = new Informer({ source: client, kind: 'Instance' });
    informer.addHandlers({
      onSync: (items) => this.resync(items),
      onAdd: (o) => this.apply({ type: 'ADDED', object: o, revision: o.metadata.revision }),
      onUpdate: (_old, o) => this.apply({ type: 'MODIFIED', object: o, revision: o.metadata.revision }),
      onDelete: (o) => this.apply({ type: 'DELETED', object: o, revision: o.metadata.revision }),
    });
    // run() never rejects: a watch failure is retried, a failing handler logged (nowhere here).
    this.done = informer.run(linked);
    this.sampler = setInterval(() => this.timeline.push({ atMs: this.now(), running: this.running, bound: this.bound }), sampleEveryMs);
  }

  get runningCount(): number {
    return this.running;
  }

  get boundCount(): number {
    return this.bound;
  }

  /** True once the first list arrived: counts before that mean nothing. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** Running, bound (live, spec.node set) and present instances summed over `services`. */
  countsOf(services: Iterable<string>): { running: number; bound: number; present: number } {
    const sum = { running: 0, bound: 0, present: 0 };
    for (const name of services) {
      const c = this.perService.get(name);
      if (!c) continue;
      sum.running += c.running;
      sum.bound += c.bound;
      sum.present += c.present;
    }
    return sum;
  }

  /** Tracked instances (probe services aside) for which `pred` holds; O(instances). */
  countWhere(pred: (i: TrackedInstance) => boolean): number {
    let n = 0;
    for (const t of this.byName.values()) if (pred(t)) n++;
    return n;
  }

  /** A random tracked instance name (for the probe's GETs), or undefined. */
  sampleName(u: number): string | undefined {
    if (this.byName.size === 0) return undefined;
    const k = Math.floor(u * Math.min(this.byName.size, 1000));
    let i = 0;
    for (const name of this.byName.keys()) if (i++ === k) return name;
    return undefined;
  }

  /** Ends the watch; a list in flight (after a disconnect) is given `graceMs`, then left behind. */
  async stop(graceMs = 2000): Promise<void> {
    clearInterval(this.sampler);
    this.stopper.abort();
    await settledWithin([this.done], graceMs);
  }

  private resync(items: AnyObject[]): void {
    this.byName.clear();
    this.running = 0;
    this.bound = 0;
    this.perService.clear();
    for (const o of items) this.upsert(o);
    this.synced = true;
  }

  private apply(ev: ClientWatchEvent): void {
    const o = ev.object;
    if (!o || o.kind !== 'Instance') return;
    if (ev.type === 'DELETED') this.remove(o.metadata.name);
    else this.upsert(o);
  }

  private upsert(o: AnyObject): void {
    if (o.kind !== 'Instance' || this.ignoreServices.has(o.spec.service)) return;
    const name = o.metadata.name;
    this.remove(name);
    const t: Tracked = { service: o.spec.service, node: o.spec.node, phase: o.status?.phase ?? 'Pending' };
    this.byName.set(name, t);
    this.count(t, 1);
    const at = this.now();
    if (t.node !== undefined && !this.everBound.has(name)) {
      this.everBound.add(name);
      this.bindTimes.push(at);
    }
    if (t.phase === 'Running' && !this.everRunning.has(name)) {
      this.everRunning.add(name);
      this.runningTimes.push(at);
    }
  }

  private remove(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    this.count(old, -1);
  }

  private count(t: Tracked, sign: 1 | -1): void {
    let c = this.perService.get(t.service);
    if (!c) {
      c = { running: 0, bound: 0, present: 0 };
      this.perService.set(t.service, c);
    }
    c.present += sign;
    if (t.phase === 'Running') {
      this.running += sign;
      c.running += sign;
    }
    if (t.node !== undefined && !isFinishedPhase(t.phase)) {
      this.bound += sign;
      c.bound += sign;
    }
  }
}
