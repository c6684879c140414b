// The scheduling controller's view of the cluster at one store revision: every Node and Instance,
// the unbound Pending instances, and each node's snapshot (limits plus what is bound there).
//
// It is read once (one list per kind) and then only brought forward, by replaying the store's
// change history from its revision up to the current one. Each replayed change updates what it
// touches: an instance's usage moves off its old node and onto its new one, a node's cached
// snapshot is dropped and rebuilt on next use. A pass therefore costs what changed since the last
// one, not a list of 100,000 instances and a rebuild of 5,000 snapshots. Keeping one revision for
// everything (rather than following two informers, each at its own revision) is what lets the
// commit-time re-check say "this is the state now". When the history no longer reaches back that
// far, it reads afresh.
import { isAppError, isUnboundPending, type GantryNode, type Instance } from '../../core/index.js';
import { nodeSnapshotOf, type NodeSnapshot } from '../../scheduler/index.js';
import type { Store, WatchEvent } from '../../store/store.js';
import { NodeUsageTable } from './node-usage-table.js';
import { nsKey } from '../shared/queue-keys.js';

/** A replay that has not reached the current revision by then falls back to a fresh read. */
const CATCH_UP_TIMEOUT_MS = 5000;
/** Instances added up between two turns of the event loop when reading the whole cluster. */
const READ_SLICE = 10_000;

export class ClusterState {
  private readonly nodeMap = new Map<string, GantryNode>();
  private readonly instanceMap = new Map<string, Instance>();
  /** Unbound Pending instances by `namespace/name`, in the order they became pending. */
  private readonly pendingMap = new Map<string, Instance>();
  private readonly usage = new NodeUsageTable();
  /** Snapshots built since their node last changed. */
  private readonly snapshotCache = new Map<string, NodeSnapshot>();
  private snapshotList: NodeSnapshot[] | undefined;

  private constructor(private rev: number) {}

  static async read(store: Store): Promise<ClusterState> {
    const nodes = await store.list('Node');
    const instances = await store.list('Instance');
    // The two lists may straddle a write: replaying from the older revision covers both.
    const state = new ClusterState(Math.min(nodes.revision, instances.revision));
    for (const n of nodes.items) state.setNode(n.metadata.name, n);
    // 100,000 instances take a while to add up: let requests in between (catchUp covers the writes).
    for (const [k, i] of instances.items.entries()) {
      if (k > 0 && k % READ_SLICE === 0) await new Promise((r) => setImmediate(r));
      state.setInstance(nsKey(i.metadata.namespace, i.metadata.name), i);
    }
    return state;
  }

  get revision(): number {
    return this.rev;
  }

  nodes(): GantryNode[] {
    return [...this.nodeMap.values()];
  }

  instance(id: string): Instance | undefined {
    return this.instanceMap.get(id);
  }

  /** `namespace/name` of every unbound Pending instance, oldest first. */
  pendingIds(): string[] {
    return [...this.pendingMap.keys()];
  }

  /** Every node's snapshot; the array and its snapshots are shared until something changes: do not mutate. */
  snapshots(): NodeSnapshot[] {
    this.snapshotList ??= [...this.nodeMap.keys()].map((name) => this.snapshot(name)!);
    return this.snapshotList;
  }

  /** The snapshot of one node, undefined when there is no such node. */
  snapshot(name: string): NodeSnapshot | undefined {
    const cached = this.snapshotCache.get(name);
    if (cached) return cached;
    const node = this.nodeMap.get(name);
    if (!node) return undefined;
    const snap = nodeSnapshotOf(node, this.usage.usage(name));
    this.snapshotCache.set(name, snap);
    return snap;
  }

  /** Whether an instance on `node` holds `uid` (runAsUser auto). */
  uidTaken(node: string, uid: number): boolean {
    return this.usage.uidTaken(node, uid);
  }

  /** This state at the store's current revision (itself, moved forward, or a fresh read). */
  async catchUp(store: Store): Promise<ClusterState> {
    const target = await store.currentRevision();
    if (target <= this.rev) return this;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), CATCH_UP_TIMEOUT_MS);
    try {
      // An unfiltered watch reaches `target` without waiting. A revision can hold several changes
      // (one transaction), published together: once at `target`, take the rest of it (already
      // buffered) without waiting for later changes, and stop at the first change past it.
      // Not "whatever is buffered": under a stream of writes (a node loss: services replacing
      // instances, agents reporting) there always was more, and one catch-up chased the tail
      // for 5 s while 2,883 instances waited to be placed.
      const it = store.watch({ fromRevision: this.rev }, ac.signal)[Symbol.asyncIterator]();
      for (;;) {
        const next = this.rev >= target ? await Promise.race([it.next(), nextMacrotask()]) : await it.next();
        if (next === undefined || next.done) break;
        this.apply(next.value);
        if (next.value.revision > target) {
          // Maybe only part of that transaction: stand at `target`, so the next catch-up replays
          // it whole (applying a change twice leaves the state as once).
          this.rev = target;
          break;
        }
      }
    } catch (err) {
      if (!isAppError(err, 'EXPIRED')) throw err;
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    return this.rev >= target ? this : ClusterState.read(store);
  }

  private apply(ev: WatchEvent): void {
    this.rev = Math.max(this.rev, ev.revision);
    const o = ev.object;
    if (o.kind === 'Node') {
      if (!isOlder(this.nodeMap.get(o.metadata.name), ev)) this.setNode(o.metadata.name, ev.type === 'DELETED' ? undefined : o);
    } else if (o.kind === 'Instance') {
      const key = nsKey(o.metadata.namespace, o.metadata.name);
      if (!isOlder(this.instanceMap.get(key), ev)) this.setInstance(key, ev.type === 'DELETED' ? undefined : o);
    }
  }

  private setNode(name: string, node: GantryNode | undefined): void {
    if (node) this.nodeMap.set(name, node);
    else this.nodeMap.delete(name);
    this.invalidate(name);
  }

  /** Replaces what we hold for `key` (undefined: deleted), moving its usage and pending state. */
  private setInstance(key: string, inst: Instance | undefined): void {
    const old = this.instanceMap.get(key);
    if (old) {
      this.usage.remove(old);
      if (old.spec.node !== undefined) this.invalidate(old.spec.node);
    }
    if (inst) {
      this.instanceMap.set(key, inst);
      this.usage.add(inst);
      if (inst.spec.node !== undefined) this.invalidate(inst.spec.node);
    } else {
      this.instanceMap.delete(key);
    }
    if (inst && isUnboundPending(inst)) {
      // A Map keeps first-insertion order: set on an existing key keeps its place in line.
      this.pendingMap.set(key, inst);
    } else {
      this.pendingMap.delete(key);
    }
  }

  private invalidate(node: string): void {
    this.snapshotCache.delete(node);
    this.snapshotList = undefined;
  }
}

/** Resolves with undefined after the microtasks queued now (buffered watch events) have run. */
function nextMacrotask(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(() => resolve(undefined)));
}

/** True when what we hold is newer than the change (the lists straddled it): skip the change. */
function isOlder(held: GantryNode | Instance | undefined, ev: WatchEvent): boolean {
  return held !== undefined && held.metadata.revision > ev.revision;
}
