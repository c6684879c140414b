// What the typed HTTP client offers (docs/api.md). The CLI, the agent, the simulator and tests use
// only this; http-client.ts implements it. The wire shapes come from the API contract in core.
import type {
  AnyObject,
  JoinTokenCreate,
  NodeRevokeResult,
  SecretKeyRotation,
  ApplyResult,
  DryRunResult,
  AuditEntry,
  ConfigFileContent,
  CronJobAction,
  EndpointSet,
  EndpointWatchEvent,
  EventReport,
  InstanceStatusReport,
  InstanceStatusResult,
  StatusBatchResult,
  CanIResult,
  Kind,
  KindWatchOptions,
  ListWatch,
  ListWatchEvent,
  ListWatchOptions,
  LoadBalancerStatus,
  Manifest,
  NodeAction,
  NodeStatus,
  ObjectOf,
  RolloutAction,
  RolloutView,
  Token,
  TokenCreate,
  VersionInfo,
  WhoAmI,
  ExecRequest,
  ExecTicketAnswer,
  StatsList,
} from '../core/index.js';

export type {
  ApplyResult,
  ConfigFileContent,
  CronJobAction,
  Endpoint,
  EndpointSet,
  EndpointWatchEvent,
  EventReport,
  InstanceStatusReport,
  InstanceStatusResult,
  LoadBalancerStatus,
  NodeAction,
  RolloutView,
  StatusBatchResult,
  VersionInfo,
} from '../core/index.js';

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

export interface GantryClient extends ListWatch {
  readonly server: string;
  healthz(): Promise<boolean>;
  version(): Promise<VersionInfo>;
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K>>;
  list<K extends Kind>(kind: K, opts?: ClientListOptions): Promise<{ items: ObjectOf<K>[]; revision: number }>;
  create<M extends Manifest>(manifest: M): Promise<AnyObject>;
  /** PUT: create or replace; `result` from the x-gantry-result header. */
  apply(manifest: Manifest): Promise<{ object: AnyObject; result: ApplyResult }>;
  /** PUT ?dryRun=true: the diff and placement preview of an apply; stores nothing. */
  planApply(manifest: Manifest): Promise<DryRunResult>;
  delete(kind: Kind, namespace: string | undefined, name: string): Promise<AnyObject>;
  scale(namespace: string, name: string, replicas: number): Promise<ObjectOf<'Service'>>;
  /** Admin only: asks the node's agent to stop the instance gracefully (sets spec.stop). */
  stopInstance(namespace: string, name: string, reason?: string): Promise<ObjectOf<'Instance'>>;
  /** trigger: a Job now (returns it); suspend / resume: the CronJob (returns it). */
  cronJobAction(namespace: string, name: string, action: CronJobAction): Promise<ObjectOf<'Job'> | ObjectOf<'CronJob'>>;
  /** GET .../services/NAME/rollout: the rollout status and the version history. */
  rollout(namespace: string, name: string): Promise<RolloutView>;
  /** POST .../services/NAME/rollout/ACTION (admin). */
  rolloutAction(namespace: string, name: string, action: RolloutAction, body?: { toVersion?: number }): Promise<{ message: string; service: ObjectOf<'Service'> }>;
  /** POST /api/v1/nodes/NAME/ACTION (admin): cordon, uncordon or drain; idempotent. */
  nodeAction(name: string, action: NodeAction): Promise<{ message: string; node: ObjectOf<'Node'> }>;
  /** Role agent only. */
  /** With `revision`: only if the Node is still at it (409 otherwise). */
  updateNodeStatus(name: string, status: NodeStatus, revision?: number): Promise<ObjectOf<'Node'>>;
  /** `timeoutMs`: this heartbeat's own timeout (an agent keeps it under its interval). */
  heartbeat(nodeName: string, opts?: { timeoutMs?: number | undefined }): Promise<void>;
  reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]>;
  /**
   * Whether the server's last status answer said it takes events in a status report
   * (`Gantry-Status-Events: 1`); undefined until a status answer came, and for clients that do not
   * track it. The agent then sends its events with its status instead of in a request of their own.
   */
  readonly statusTakesEvents?: boolean | undefined;
  /**
   * A status report with events riding on it (only to a server that takes them: statusTakesEvents).
   * `events.recorded` says how many were recorded; with `retryAfterSeconds` none were (the node is
   * over its event rate): send them again later.
   */
  reportStatusWithEvents?(items: readonly InstanceStatusReport[], events: readonly EventReport[], source?: string): Promise<StatusBatchResult>;
  /**
   * When (Date.now()) a server last answered a report of this node's (status, events) saying it
   * renewed the node's lease with it (`Gantry-Lease: renewed`), as a heartbeat would; undefined
   * until then, and for clients that do not track it. The agent skips heartbeats that soon after.
   */
  readonly leaseRenewedAt?: number | undefined;
  /**
   * The heartbeat interval (ms) the server last asked for (`Gantry-Heartbeat-Interval`; it grows
   * with the cluster); undefined until a server said. The agent heartbeats no more often.
   */
  readonly advisedHeartbeatIntervalMs?: number | undefined;
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
  /** Admin only: a person's token; `token` is the string, shown this once. */
  issueToken(req: TokenCreate): Promise<{ token: string; object: Token }>;
  /** Admin only: revoke a token at once; idempotent. */
  revokeToken(id: string): Promise<Token>;
  /** Admin only: seal every Secret with a new key and drop the old ones. */
  rotateSecretKey(): Promise<SecretKeyRotation>;
  /** Admin only: a join token for agents (GTJ-1-...); `token` is the string, shown this once. */
  createJoinToken(req: JoinTokenCreate): Promise<{ token: string; object: Token }>;
  /** Admin only: refuse a node's credentials from now on and close what they have open. */
  revokeNode(name: string): Promise<NodeRevokeResult>;
  /** Who this client's token stands for. */
  whoami(): Promise<WhoAmI>;
  /** Whether this client's token may do `verb` on `kind` (in `namespace`; '*': every namespace). */
  canI(verb: string, kind: string, namespace?: string): Promise<CanIResult>;
  /** Admin only: audit log entries, oldest first (the newest `limit`, default 1000). */
  audit(q: { user?: string | undefined; since?: string | undefined; limit?: number | undefined }): Promise<AuditEntry[]>;
  /** Live usage of an instance's containers, from its node's agent. */
  instanceStats(namespace: string, name: string, since?: string): Promise<StatsList>;
  /** Live usage of every container on a node, from its agent. */
  nodeStats(name: string, since?: string): Promise<StatsList>;
  /** Role edit: a ticket for an exec session's WebSocket (docs/operate.md). */
  execTicket(namespace: string, name: string, req: ExecRequest): Promise<ExecTicketAnswer>;
  /** Log text chunks; ends when not following or on abort. */
  logs(namespace: string, name: string, opts: { container?: string | undefined; follow?: boolean; tail?: number | undefined; timestamps?: boolean; previous?: boolean }, signal?: AbortSignal): AsyncIterable<string>;
}

export interface ClientOptions {
  /** e.g. https://127.0.0.1:7070 */
  server: string;
  token: string;
  /** The cluster CA's certificate (PEM) that https:// servers are checked against; absent: the system's roots. */
  ca?: string | undefined;
  /** Per-request timeout for non-streaming calls; default 30 s. */
  timeoutMs?: number;
}
