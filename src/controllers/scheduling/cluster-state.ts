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
import { holdsResources, nodeSnapshotOf, type NodeSnapshot } from '../../scheduler/index.js';
import type { Store, WatchEvent } from '../../store/store.js';
import { NodeUsageTable } from './node-usage-table.js';
import { nsKey } from '../shared/queue-keys.js';
import { nodeSchedulingChanged } from './scheduling-triggers.js';

/** A replay that has not reached the current revision by then falls back to a fresh read. */
const CATCH_UP_TIMEOUT_MS = 5000;
/**
 * Instances added up between two turns of the event loop when reading the whole cluster. 10,000 a
 * turn made one of the longest stretches of a restarted server at 5,000 nodes (a third of a 987 ms
 * stretch, on a slow machine); 2,000 keeps a turn well under the 100 ms the issue allows.
 */
const READ_SLICE = 2_000;

export class ClusterState {
  private readonly nodeMap = new Map<string, GantryNode>();
  private readonly instanceMap = new Map<string, Instance>();
  /** Unbound Pending instances by `namespace/name`, in the order they became pending. */
  private readonly pendingMap = new Map<string, Instance>();
  private readonly usage = new NodeUsageTable();
  /** Snapshots built since their node last changed. */
  private readonly snapshotCache = new Map<string, NodeSnapshot>();
  /** Every node's snapshot, in nodeMap's order; undefined once a node came or went. */
  private snapshotList: NodeSnapshot[] | undefined;
  /** Node name -> its place in snapshotList. */
  private readonly listIndex = new Map<string, number>();
  /** Nodes whose place in snapshotList holds a snapshot older than the node or its usage. */
  private readonly staleInList = new Set<string>();

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

  /**
   * Every node's snapshot. The array is kept and updated in place at the next call (a changed node's
   * entry replaced, the whole list rebuilt when a node came or went): use it before the next await,
   * and do not mutate it or its snapshots.
   */
  snapshots(): NodeSnapshot[] {
    if (!this.snapshotList) {
      this.listIndex.clear();
      this.snapshotList = [...this.nodeMap.keys()].map((name, i) => {
        this.listIndex.set(name, i);
        return this.snapshot(name)!;
      });
    } else {
      // Only the nodes that changed: a pass plans a chunk after each bind txn, and rebuilding the
      // list of 10,000 snapshots for each was 2.6% of the server's CPU in a 10,000-node rollout.
      for (const name of this.staleInList) this.snapshotList[this.listIndex.get(name)!] = this.snapshot(name)!;
    }
    this.staleInList.clear();
    return this.snapshotList;
  }

  /**
   * The snapshot of one node, undefined when there is no such node. Like snapshots(): read it
   * before the next await (its host ports and service counts are the usage table's own).
   */
  snapshot(name: string): NodeSnapshot | undefined {
    const cached = this.snapshotCache.get(name);
    if (cached) return cached;
    const node = this.nodeMap.get(name);
    if (!node) return undefined;
    // The usage table's own ports and counts, not copies: every change to them invalidates this
    // snapshot (setInstance), and snapshots are read before the next await.
    const snap = nodeSnapshotOf(node, this.usage.view(name));
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
    const old = this.nodeMap.get(name);
    if (node) this.nodeMap.set(name, node);
    else this.nodeMap.delete(name);
    // A heartbeat's stamp or a usage report changes nothing a snapshot holds.
    if (old && node && !nodeSchedulingChanged(old, node)) return;
    this.invalidate(name);
  }

  /** Replaces what we hold for `key` (undefined: deleted), moving its usage and pending state. */
  private setInstance(key: string, inst: Instance | undefined): void {
    const old = this.instanceMap.get(key);
    if (old && inst && sameUsage(old, inst)) {
      // A status report of a running instance (most changes in a rollout): its node's usage and
      // snapshot stay as they are; only whether it waits for placement may change.
      this.instanceMap.set(key, inst);
      if (isUnboundPending(inst)) this.pendingMap.set(key, inst);
      else this.pendingMap.delete(key);
      return;
    }
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
    if (!this.snapshotList) return;
    const listed = this.listIndex.has(node);
    if (listed && this.nodeMap.has(node)) this.staleInList.add(node);
    else if (listed || this.nodeMap.has(node)) this.snapshotList = undefined; // a node came or went
  }
}

/**
 * Whether `next` charges its node exactly what `old` does: the same spec object (the store shares
 * a version's unchanged parts with the one before) and the same answer to holdsResources.
 */
function sameUsage(old: Instance, next: Instance): boolean {
  return old.spec === next.spec && holdsResources(old) === holdsResources(next);
}

/** Resolves with undefined after the microtasks queued now (buffered watch events) have run. */
function nextMacrotask(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(() => resolve(undefined)));
}

/** True when what we hold is newer than the change (the lists straddled it): skip the change. */
function isOlder(held: GantryNode | Instance | undefined, ev: WatchEvent): boolean {
  return held !== undefined && held.metadata.revision > ev.revision;
}
