// What the typed HTTP client offers (docs/api.md). The CLI, the agent, the simulator and tests use
// only this; http-client.ts implements it with fetch.
import type { AnyObject, InstanceStatus, Kind, KindWatchOptions, ListWatch, ListWatchEvent, ListWatchOptions, Manifest, NodeStatus, ObjectOf, ServiceStatus } from '../core/index.js';
import type { EndpointSet } from '../discovery/endpoint.js';
import type { LoadBalancerStatus } from '../discovery/haproxy/lb-status.js';

export type { Endpoint, EndpointSet } from '../discovery/endpoint.js';
export type { LoadBalancerStatus } from '../discovery/haproxy/lb-status.js';

/** A line of an endpoint watch: the current sets as ADDED, then changed sets as MODIFIED. */
export interface EndpointWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'BOOKMARK';
  revision: number;
  object?: EndpointSet;
}

export type CronJobAction = 'trigger' | 'suspend' | 'resume';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/**
 * `namespace` (for namespaced kinds, all namespaces when absent) and `field` as the Store takes
 * them (so the client is a ListWatch), plus the API's own selector strings.
 */
export interface ClientListOptions extends ListWatchOptions {
  /** `spec.node=NAME[,spec.service=NAME]`; joined with `field` when both are given. */
  fieldSelector?: string | undefined;
  labelSelector?: string | undefined;
}

/** A watch: one kind from a revision (absent: from now), selected as a list is. */
export type ClientWatchOptions = KindWatchOptions & ClientListOptions;

/** A line of a watch stream: ADDED, MODIFIED, DELETED with the object; BOOKMARK without. */
export type ClientWatchEvent = ListWatchEvent;

export interface InstanceStatusReport {
  namespace: string;
  name: string;
  status: InstanceStatus;
}

export interface InstanceStatusResult {
  namespace: string;
  name: string;
  ok: boolean;
  error?: { code: string; message: string } | undefined;
}

/** One event an agent reports (POST /api/v1/events); the server aggregates repeats. */
export interface EventReport {
  involved: { kind: Kind; namespace?: string | undefined; name: string };
  type: 'Normal' | 'Warning';
  /** One CamelCase word: BackOff, Started. */
  reason: string;
  message: string;
}

/** One config file of an instance with its content resolved (GET .../instances/NAME/files). */
export interface ConfigFileContent {
  path: string;
  /** Octal text like "0644". */
  mode: string;
  content: string;
}

/** The answer of GET .../rollout. */
/** Node maintenance actions (docs/nodes.md). */
export type NodeAction = 'cordon' | 'uncordon' | 'drain';

export interface RolloutView {
  service: string;
  namespace: string;
  replicas: number;
  generation: number;
  status?: ServiceStatus | undefined;
  paused: boolean;
  history: { version: number; cause?: string | undefined; createdAt: string; images: string[]; current: boolean }[];
}

export interface GantryClient extends ListWatch {
  readonly server: string;
  healthz(): Promise<boolean>;
  version(): Promise<{ version: string; apiVersion: string; revision: number; clusterId: string }>;
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K>>;
  list<K extends Kind>(kind: K, opts?: ClientListOptions): Promise<{ items: ObjectOf<K>[]; revision: number }>;
  create<M extends Manifest>(manifest: M): Promise<AnyObject>;
  /** PUT: create or replace; `result` from the x-gantry-result header. */
  apply(manifest: Manifest): Promise<{ object: AnyObject; result: ApplyResult }>;
  delete(kind: Kind, namespace: string | undefined, name: string): Promise<AnyObject>;
  scale(namespace: string, name: string, replicas: number): Promise<ObjectOf<'Service'>>;
  /** Admin only: asks the node's agent to stop the instance gracefully (sets spec.stop). */
  stopInstance(namespace: string, name: string, reason?: string): Promise<ObjectOf<'Instance'>>;
  /** trigger: a Job now (returns it); suspend / resume: the CronJob (returns it). */
  cronJobAction(namespace: string, name: string, action: CronJobAction): Promise<ObjectOf<'Job'> | ObjectOf<'CronJob'>>;
  /** GET .../services/NAME/rollout: the rollout status and the version history. */
  rollout(namespace: string, name: string): Promise<RolloutView>;
  /** POST .../services/NAME/rollout/ACTION (admin). */
  rolloutAction(namespace: string, name: string, action: 'pause' | 'resume' | 'promote' | 'undo', body?: { toVersion?: number }): Promise<{ message: string; service: ObjectOf<'Service'> }>;
  /** POST /api/v1/nodes/NAME/ACTION (admin): cordon, uncordon or drain; idempotent. */
  nodeAction(name: string, action: NodeAction): Promise<{ message: string; node: ObjectOf<'Node'> }>;
  /** Role agent only. */
  updateNodeStatus(name: string, status: NodeStatus): Promise<ObjectOf<'Node'>>;
  heartbeat(nodeName: string): Promise<void>;
  reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]>;
  /** Role agent only; at most 1,000 items. `source` says who saw it (default "agent"). */
  recordEvents(items: readonly EventReport[], source?: string): Promise<void>;
  /**
   * Yields events until `signal` aborts; throws AppError EXPIRED (410) when `revision` is too old
   * and other AppErrors on HTTP errors. Does not reconnect by itself: callers resume from the last
   * revision they saw (the Informer of src/runtime does, over this interface).
   */
  watch(opts: ClientWatchOptions, signal: AbortSignal): AsyncIterable<ClientWatchEvent>;
  /**
   * Role agent only: the instance's config files with content resolved (Secrets included). `node`
   * is the asking agent's node; the server refuses an instance bound elsewhere.
   */
  instanceFiles(namespace: string, name: string, node: string): Promise<ConfigFileContent[]>;
  /** The ready endpoints of one service (GET .../namespaces/{ns}/endpoints/{service}); NOT_FOUND for an unknown service. */
  endpoints(namespace: string, service: string): Promise<EndpointSet>;
  /** What the load balancer does for a Service's spec.expose; NOT_FOUND for an unknown service. */
  loadBalancer(namespace: string, service: string): Promise<LoadBalancerStatus>;
  /** Every service's endpoints, in one namespace or all. */
  listEndpoints(namespace?: string): Promise<{ items: EndpointSet[]; revision: number }>;
  /** The service's set, then every change, until `signal` aborts (no reconnect). */
  watchEndpoints(namespace: string, service: string, signal: AbortSignal): AsyncIterable<EndpointWatchEvent>;
  /** Log text chunks; ends when not following or on abort. */
  logs(namespace: string, name: string, opts: { container?: string | undefined; follow?: boolean; tail?: number | undefined }, signal?: AbortSignal): AsyncIterable<string>;
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:7070 */
  server: string;
  token: string;
  /** Per-request timeout for non-streaming calls; default 30 s. */
  timeoutMs?: number;
}
