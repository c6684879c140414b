// What the typed HTTP client offers (docs/api.md). The CLI, the agent, the simulator and tests use
// only this; http-client.ts implements it with fetch.
import type { AnyObject, InstanceStatus, Kind, Manifest, NodeStatus, ObjectOf, ServiceStatus } from '../core/index.js';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

export interface ClientListOptions {
  /** A namespace; for namespaced kinds, all namespaces when absent. */
  namespace?: string | undefined;
  fieldSelector?: string | undefined;
  labelSelector?: string | undefined;
}

export interface ClientWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  revision: number;
  object?: AnyObject;
}

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

/** The answer of GET .../rollout. */
export interface RolloutView {
  service: string;
  namespace: string;
  replicas: number;
  generation: number;
  status?: ServiceStatus | undefined;
  paused: boolean;
  history: { version: number; cause?: string | undefined; createdAt: string; images: string[]; current: boolean }[];
}

export interface GantryClient {
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
  /** GET .../services/NAME/rollout: the rollout status and the version history. */
  rollout(namespace: string, name: string): Promise<RolloutView>;
  /** POST .../services/NAME/rollout/ACTION (admin). */
  rolloutAction(namespace: string, name: string, action: 'pause' | 'resume' | 'promote' | 'undo', body?: { toVersion?: number }): Promise<{ message: string; service: ObjectOf<'Service'> }>;
  /** Role agent only. */
  updateNodeStatus(name: string, status: NodeStatus): Promise<ObjectOf<'Node'>>;
  heartbeat(nodeName: string): Promise<void>;
  reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]>;
  /** Role agent only; at most 1,000 items. `source` says who saw it (default "agent"). */
  recordEvents(items: readonly EventReport[], source?: string): Promise<void>;
  /**
   * Yields events until `signal` aborts; throws AppError EXPIRED (410) when `revision` is too old
   * and other AppErrors on HTTP errors. Does not reconnect by itself: callers resume from the last
   * revision they saw (see watch-loop.ts for a reconnecting helper).
   */
  watch(kind: Kind, opts: ClientListOptions & { revision?: number | undefined }, signal: AbortSignal): AsyncIterable<ClientWatchEvent>;
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
