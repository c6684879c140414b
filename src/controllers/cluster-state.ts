// The scheduling controller's view of the cluster: every Node and Instance at one store revision.
// Read with one list per kind at the start of a pass, then brought forward by replaying the
// store's change history (watch from our revision up to the current one), so the commit-time
// re-check costs what changed since the plan (a few heartbeats) rather than another list of
// 100k instances. When the history no longer reaches back that far, it reads afresh.
import { isAppError, type GantryNode, type Instance } from '../core/index.js';
import type { Store, WatchEvent } from '../store/store.js';
import { nsKey } from './instance-phase.js';

/** A replay that has not reached the current revision by then falls back to a fresh read. */
const CATCH_UP_TIMEOUT_MS = 5000;

export class ClusterState {
  private constructor(
    private rev: number,
    private readonly nodeMap: Map<string, GantryNode>,
    private readonly instanceMap: Map<string, Instance>,
  ) {}

  static async read(store: Store): Promise<ClusterState> {
    const nodes = await store.list('Node');
    const instances = await store.list('Instance');
    // The two lists may straddle a write: replaying from the older revision covers both.
    return new ClusterState(
      Math.min(nodes.revision, instances.revision),
      new Map(nodes.items.map((n) => [n.metadata.name, n])),
      new Map(instances.items.map((i) => [nsKey(i.metadata.namespace, i.metadata.name), i])),
    );
  }

  get revision(): number {
    return this.rev;
  }

  nodes(): GantryNode[] {
    return [...this.nodeMap.values()];
  }

  instances(): Instance[] {
    return [...this.instanceMap.values()];
  }

  instance(id: string): Instance | undefined {
    return this.instanceMap.get(id);
  }

  /** This state at the store's current revision (itself, moved forward, or a fresh read). */
  async catchUp(store: Store): Promise<ClusterState> {
    const target = await store.currentRevision();
    if (target <= this.rev) return this;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), CATCH_UP_TIMEOUT_MS);
    try {
      // Every revision is one change, so an unfiltered watch reaches `target` without waiting.
      for await (const ev of store.watch({ fromRevision: this.rev }, ac.signal)) {
        this.apply(ev);
        if (ev.revision >= target) break;
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
    if (o.kind === 'Node') applyTo(this.nodeMap, o.metadata.name, o, ev);
    else if (o.kind === 'Instance') applyTo(this.instanceMap, nsKey(o.metadata.namespace, o.metadata.name), o, ev);
  }
}

/** Applies one change unless what we hold is already newer (the lists straddled it). */
function applyTo<O extends GantryNode | Instance>(map: Map<string, O>, key: string, obj: O, ev: WatchEvent): void {
  const held = map.get(key);
  if (held && held.metadata.revision > ev.revision) return;
  if (ev.type === 'DELETED') map.delete(key);
  else map.set(key, obj);
}
