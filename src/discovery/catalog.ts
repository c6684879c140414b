// The service catalog: every ready instance's published ports, by service, kept up to date from
// the store's watch (two informers: Instance and Node). Incremental: a change costs what the
// changed instance (or node) costs, never a rescan of a service's instances. Listeners hear of a
// service whose endpoint set changed, synchronously, in the order of store revisions.
import type { Logger } from 'pino';
import { Informer } from '../runtime/informer.js';
import { namespaceOf, type GantryNode, type Instance } from '../core/index.js';
import type { Store } from '../store/store.js';
import { endpointsOf, sameEndpoints, type Endpoint, type EndpointSet } from './endpoint.js';

export interface CatalogOptions {
  store: Store;
  logger: Logger;
  /** Informers' resync; a resync changes nothing unless state drifted. Default 30 s. */
  resyncIntervalMs?: number;
}

export type CatalogListener = (set: EndpointSet) => void;

interface ServiceEntry {
  namespace: string;
  service: string;
  revision: number;
  /** By instance name. */
  byInstance: Map<string, Endpoint[]>;
  /** The flattened, sorted list; rebuilt lazily after a change. */
  cached: Endpoint[] | undefined;
}

export class Catalog {
  private readonly instances: Informer<'Instance'>;
  private readonly nodes: Informer<'Node'>;
  private readonly services = new Map<string, ServiceEntry>();
  /** Instance keys (`ns/name`) by node name, to re-judge a node's instances when it changes. */
  private readonly byNode = new Map<string, Set<string>>();
  private readonly listeners = new Set<CatalogListener>();
  readonly synced: Promise<void>;

  constructor(private readonly opts: CatalogOptions) {
    const resyncIntervalMs = opts.resyncIntervalMs ?? 30_000;
    this.instances = new Informer({ source: opts.store, kind: 'Instance', logger: opts.logger, resyncIntervalMs });
    this.nodes = new Informer({ source: opts.store, kind: 'Node', logger: opts.logger, resyncIntervalMs: 0 });
    this.instances.addHandlers({
      onAdd: (i) => this.judge(i),
      onUpdate: (old, i) => {
        if (old.spec.node !== i.spec.node) this.unindex(old);
        this.judge(i);
      },
      onDelete: (i) => this.forget(i),
    });
    this.nodes.addHandlers({
      onAdd: (n) => this.judgeNode(n),
      onUpdate: (_old, n) => this.judgeNode(n),
      onDelete: (n) => this.judgeNode(n),
    });
    this.synced = Promise.all([this.instances.synced, this.nodes.synced]).then(() => undefined);
  }

  /** Runs the informers until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.nodes.run(signal), this.instances.run(signal)]);
  }

  /** The store revision the catalog has caught up with. */
  get revision(): number {
    return Math.max(this.instances.lastRevision, this.nodes.lastRevision);
  }

  /** The endpoints of one service, sorted by instance then port (empty when none). */
  get(namespace: string, service: string): EndpointSet {
    const e = this.services.get(key(namespace, service));
    if (!e) return { namespace, service, revision: 0, endpoints: [] };
    return { namespace, service, revision: e.revision, endpoints: flatten(e) };
  }

  /** Every service that has (or had) endpoints, optionally in one namespace. */
  list(namespace?: string): EndpointSet[] {
    const out: EndpointSet[] = [];
    for (const e of this.services.values()) {
      if (namespace !== undefined && e.namespace !== namespace) continue;
      out.push({ namespace: e.namespace, service: e.service, revision: e.revision, endpoints: flatten(e) });
    }
    return out.sort((a, b) => key(a.namespace, a.service).localeCompare(key(b.namespace, b.service)));
  }

  /** Calls `listener` with a service's new set after each change to it; returns the unsubscribe. */
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private judge(i: Instance): void {
    if ((i.spec.ownerKind ?? 'Service') !== 'Service') return;
    const instKey = key(namespaceOf(i), i.metadata.name);
    if (i.spec.node) {
      let set = this.byNode.get(i.spec.node);
      if (!set) this.byNode.set(i.spec.node, (set = new Set()));
      set.add(instKey);
    }
    const node = i.spec.node ? this.nodes.get(undefined, i.spec.node) : undefined;
    this.put(i, endpointsOf(i, node));
  }

  private forget(i: Instance): void {
    this.unindex(i);
    this.put(i, []);
  }

  private unindex(i: Instance): void {
    if (!i.spec.node) return;
    const set = this.byNode.get(i.spec.node);
    set?.delete(key(namespaceOf(i), i.metadata.name));
    if (set?.size === 0) this.byNode.delete(i.spec.node);
  }

  private judgeNode(n: GantryNode): void {
    for (const instKey of this.byNode.get(n.metadata.name) ?? []) {
      const slash = instKey.indexOf('/');
      const i = this.instances.get(instKey.slice(0, slash), instKey.slice(slash + 1));
      if (i) this.judge(i);
    }
  }

  private put(i: Instance, endpoints: Endpoint[]): void {
    const namespace = namespaceOf(i);
    const k = key(namespace, i.spec.service);
    let e = this.services.get(k);
    const old = e?.byInstance.get(i.metadata.name) ?? [];
    if (sameEndpoints(old, endpoints)) return;
    if (!e) {
      e = { namespace, service: i.spec.service, revision: 0, byInstance: new Map(), cached: undefined };
      this.services.set(k, e);
    }
    if (endpoints.length === 0) e.byInstance.delete(i.metadata.name);
    else e.byInstance.set(i.metadata.name, endpoints);
    e.revision = Math.max(e.revision, i.metadata.revision, this.revision);
    e.cached = undefined;
    const set = { namespace, service: e.service, revision: e.revision, endpoints: flatten(e) };
    for (const l of this.listeners) {
      try {
        l(set);
      } catch (err) {
        this.opts.logger.error({ err, namespace, service: e.service }, 'catalog listener threw');
      }
    }
  }
}

function flatten(e: ServiceEntry): Endpoint[] {
  if (!e.cached) {
    e.cached = [...e.byInstance.values()].flat().sort((a, b) => a.instance.localeCompare(b.instance) || a.port.localeCompare(b.port));
  }
  return e.cached;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
