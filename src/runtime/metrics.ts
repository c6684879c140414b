// The server's Prometheus metrics (prom-client): one registry per server, the series the parts
// of the server feed (API, store, controllers, scheduler) and gauges read at scrape time (queue
// depths, open streams, nodes by condition, instances by phase). Node's own process series
// (CPU, memory, GC, event-loop delay as `nodejs_eventloop_lag_*`) come from prom-client's
// default collectors. Served at GET /metrics (role metrics); docs/monitoring.md lists them.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: from 1 ms to 10 s, the range an API call or a store write lives in. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What a scrape reads from the store: counts by label value. */
export interface ClusterCounts {
  /** `{ condition, status }` -> nodes, e.g. Ready/True. */
  nodes: ReadonlyArray<{ condition: string; status: string; count: number }>;
  /** phase -> instances. */
  instances: ReadonlyMap<string, number>;
  /** Events stored (what compaction keeps bounded). */
  events?: number | undefined;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly apiRequests: Histogram<'route' | 'method' | 'code'>;
  readonly storeWrites: Histogram<'op'>;
  readonly storeTxnOps: Histogram;
  readonly reconciles: Histogram<'controller' | 'result'>;
  readonly placements: Counter<'result'>;
  /** Lists and watches by kind and how: list, watch (from now) or resume (from a revision). */
  readonly reads: Counter<'kind' | 'how'>;
  private freshLeases: () => number = () => 0;
  private readonly queues = new Map<string, () => number>();
  private openStreams: () => number = () => 0;
  private storeQueue: () => { waiting: number; deferred: number } = () => ({ waiting: 0, deferred: 0 });
  private clusterCounts: () => Promise<ClusterCounts> | ClusterCounts = () => ({ nodes: [], instances: new Map() });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.apiRequests = new Histogram({
      name: 'gantry_api_request_duration_seconds',
      help: 'API requests by route (its registry id), method and status code',
      labelNames: ['route', 'method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.storeWrites = new Histogram({
      name: 'gantry_store_write_duration_seconds',
      help: 'store writes (create, update, delete, txn) from call to commit',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.storeTxnOps = new Histogram({
      name: 'gantry_store_txn_operations',
      help: 'operations per store transaction (batch size)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
      registers,
    });
    this.reconciles = new Histogram({
      name: 'gantry_controller_reconcile_duration_seconds',
      help: "controllers' reconciles of one work-queue key, by controller and result (ok, error)",
      labelNames: ['controller', 'result'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.placements = new Counter({
      name: 'gantry_scheduler_placements_total',
      help: 'instances the scheduler placed (result=placed) or found no node for (result=unschedulable)',
      labelNames: ['result'],
      registers,
    });
    this.reads = new Counter({
      name: 'gantry_api_reads_total',
      help: 'lists and watches by kind and how: list, watch (from now), resume (a watch from a revision, as agents reconnect)',
      labelNames: ['kind', 'how'],
      registers,
    });
    const fresh = (): number => this.freshLeases();
    new Gauge({
      name: 'gantry_node_leases_fresh',
      help: 'nodes whose heartbeat this server received within the node grace period (after a restart: the nodes heard from since)',
      registers,
      collect() {
        this.set(fresh());
      },
    });
    const queues = this.queues;
    new Gauge({
      name: 'gantry_workqueue_depth',
      help: 'keys waiting in each controller work queue',
      labelNames: ['controller'],
      registers,
      collect() {
        this.reset();
        for (const [controller, depth] of queues) this.set({ controller }, depth());
      },
    });
    const streams = (): number => this.openStreams();
    new Gauge({
      name: 'gantry_api_open_streams',
      help: 'open watch and log-follow streams',
      registers,
      collect() {
        this.set(streams());
      },
    });
    const storeQueue = (): { waiting: number; deferred: number } => this.storeQueue();
    new Gauge({
      name: 'gantry_store_writes_waiting',
      help: "store writes waiting for a later event-loop turn (the SQLite store's turn budget): how far writes are behind",
      registers,
      collect() {
        this.set(storeQueue().waiting);
      },
    });
    let deferredSeen = 0;
    new Counter({
      name: 'gantry_store_writes_deferred_total',
      help: 'store writes that waited for a later event-loop turn because the turn had spent its write budget',
      registers,
      collect() {
        const now = storeQueue().deferred;
        // A count that went back (another store behind the function) starts over from there.
        if (now !== deferredSeen) this.inc(now >= deferredSeen ? now - deferredSeen : now);
        deferredSeen = now;
      },
    });
    const counts = async (): Promise<ClusterCounts> => this.clusterCounts();
    let pending: Promise<ClusterCounts> | undefined;
    // Both gauges come from one read of the store per scrape.
    const once = (): Promise<ClusterCounts> => (pending ??= counts().finally(() => setImmediate(() => (pending = undefined))));
    new Gauge({
      name: 'gantry_nodes',
      help: 'nodes by condition type and status (True, False, Unknown), and cordoned (condition=Unschedulable)',
      labelNames: ['condition', 'status'],
      registers,
      async collect() {
        const c = await once();
        this.reset();
        for (const n of c.nodes) this.set({ condition: n.condition, status: n.status }, n.count);
      },
    });
    new Gauge({
      name: 'gantry_events',
      help: 'events stored, which compaction keeps under the server\'s --max-events and --event-ttl',
      registers,
      async collect() {
        this.set((await once()).events ?? 0);
      },
    });
    new Gauge({
      name: 'gantry_instances',
      help: 'instances by phase',
      labelNames: ['phase'],
      registers,
      async collect() {
        const c = await once();
        this.reset();
        for (const [phase, count] of c.instances) this.set({ phase }, count);
      },
    });
  }

  /** A controller's queue, whose depth each scrape reads. */
  watchQueue(controller: string, depth: () => number): void {
    this.queues.set(controller, depth);
  }

  /** The store's write queue (SqliteStore.waitingWrites / deferredWrites); a store without one reads 0. */
  countStoreQueue(fn: () => { waiting: number; deferred: number }): void {
    this.storeQueue = fn;
  }

  countFreshLeases(fn: () => number): void {
    this.freshLeases = fn;
  }

  countStreams(fn: () => number): void {
    this.openStreams = fn;
  }

  countCluster(fn: () => Promise<ClusterCounts> | ClusterCounts): void {
    this.clusterCounts = fn;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
