// The plan's view of the cluster: the input snapshots, with a private copy of each node the plan
// has placed on (copy on write: its service counts an overlay on the snapshot's, its host ports
// copied only when a placement takes one), and per-service spread counts that include the plan's
// own placements. The input snapshots are never changed.
import { CountsOverlay } from './counts-overlay.js';
import { spreadValue } from './rank.js';
import type { NodeSnapshot, PlacementRequest } from './types.js';

interface OwnedNode extends NodeSnapshot {
  used: { cpu: number; memory: number };
  serviceCounts: CountsOverlay;
  /** The node's own copy of hostPorts, made when a placement first takes a port. */
  ownPorts?: Set<string> | undefined;
}

export class WorkingNodes {
  private readonly view: NodeSnapshot[];
  private readonly owned = new Map<number, OwnedNode>();
  /**
   * service key -> indices of nodes holding it, for the services this plan spreads only; built on
   * the first spread request, then kept current.
   */
  private serviceNodes: Map<string, Set<number>> | undefined;
  /** service key -> label key -> label value -> instance count. */
  private readonly spreadTables = new Map<string, Map<string, Map<string, number>>>();

  /**
   * `spreadServices`: the service keys of the plan's requests that ask for spread. Only their
   * nodes are indexed, so a plan's setup costs O(nodes), not O(instances already placed).
   */
  constructor(
    nodes: readonly NodeSnapshot[],
    private readonly spreadServices: ReadonlySet<string> = new Set(),
  ) {
    this.view = nodes.slice();
  }

  get size(): number {
    return this.view.length;
  }

  node(index: number): NodeSnapshot {
    const n = this.view[index];
    if (!n) throw new RangeError(`no node at index ${index}`);
    return n;
  }

  /** Counts of `serviceKey` per value of label `key`, placements made so far included. */
  spreadCounts(serviceKey: string, key: string): ReadonlyMap<string, number> {
    let byKey = this.spreadTables.get(serviceKey);
    if (!byKey) {
      byKey = new Map();
      this.spreadTables.set(serviceKey, byKey);
    }
    let counts = byKey.get(key);
    if (!counts) {
      counts = new Map();
      for (const i of this.nodesHolding(serviceKey)) {
        const n = this.node(i);
        const v = spreadValue(n, key);
        counts.set(v, (counts.get(v) ?? 0) + (n.serviceCounts.get(serviceKey) ?? 0));
      }
      byKey.set(key, counts);
    }
    return counts;
  }

  /** Records `req` on node `index`, so later decisions see its resources, ports and service. */
  place(index: number, req: PlacementRequest): void {
    const n = this.own(index);
    n.used.cpu += req.resources.cpu;
    n.used.memory += req.resources.memory;
    if (req.hostPorts.length > 0) {
      n.ownPorts ??= new Set(n.hostPorts);
      n.hostPorts = n.ownPorts;
      for (const p of req.hostPorts) n.ownPorts.add(p);
    }
    n.serviceCounts.set(req.serviceKey, (n.serviceCounts.get(req.serviceKey) ?? 0) + 1);
    if (this.serviceNodes) {
      let set = this.serviceNodes.get(req.serviceKey);
      if (!set) {
        set = new Set();
        this.serviceNodes.set(req.serviceKey, set);
      }
      set.add(index);
    }
    const byKey = this.spreadTables.get(req.serviceKey);
    if (byKey) {
      for (const [key, counts] of byKey) {
        const v = spreadValue(n, key);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
    }
  }

  private own(index: number): OwnedNode {
    let n = this.owned.get(index);
    if (!n) {
      const src = this.node(index);
      n = {
        ...src,
        used: { ...src.used },
        serviceCounts: new CountsOverlay(src.serviceCounts),
      };
      this.owned.set(index, n);
      this.view[index] = n;
    }
    return n;
  }

  private nodesHolding(serviceKey: string): Iterable<number> {
    if (!this.serviceNodes) {
      // One pass over the nodes per plan, and only when some request asks for spread. Each node
      // is looked up for the plan's spread services (or its own services, if it holds fewer), so
      // the pass does not grow with the instances already in the cluster.
      const wanted = this.spreadServices;
      const index = new Map<string, Set<number>>();
      const note = (svc: string, i: number): void => {
        let set = index.get(svc);
        if (!set) {
          set = new Set();
          index.set(svc, set);
        }
        set.add(i);
      };
      for (let i = 0; i < this.view.length; i++) {
        const counts = this.node(i).serviceCounts;
        if (counts.size === 0) continue;
        if (wanted.size < counts.size) {
          for (const svc of wanted) if ((counts.get(svc) ?? 0) > 0) note(svc, i);
        } else {
          for (const [svc, count] of counts) if (count > 0 && wanted.has(svc)) note(svc, i);
        }
      }
      this.serviceNodes = index;
    }
    return this.serviceNodes.get(serviceKey) ?? [];
  }
}
