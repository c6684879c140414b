// GantryClient over HTTP, on one transport (http-transport.ts): a keep-alive pool for calls,
// a connection of its own for each watch and log. Every body received is checked against the API
// contract (core/api) before it is handed on, so a server of another version, or a proxy, is a
// clear error naming the route rather than a wrong value deep in the CLI or the agent. Errors from
// the server arrive as the AppError the server threw (code, message, field details), so the CLI
// can print a 422's field paths; a server that cannot be reached is one UNAVAILABLE error that
// says how to start it.
import type { TSchema } from 'typebox';
import {
  AppError,
  UsageError,
  ConfigFilesSchema,
  DEFAULT_NAMESPACE,
  EndpointSetListSchema,
  EndpointSetSchema,
  EndpointWatchLineSchema,
  errorOf,
  EventBatchResultSchema,
  HealthzSchema,
  kindInfo,
  HEARTBEAT_INTERVAL_HEADER,
  MAX_HEARTBEAT_INTERVAL_MS,
  LEASE_HEADER,
  STATUS_EVENTS_HEADER,
  LEASE_RENEWED,
  listSchema,
  LoadBalancerStatusSchema,
  namespaceOf,
  NodeActionResultSchema,
  objectSchema,
  RolloutActionResultSchema,
  RolloutViewSchema,
  ROUTES,
  routesOfKind,
  schemaErrors,
  sleep,
  StatusBatchResultSchema,
  UnavailableError,
  VersionSchema,
  watchLineSchema,
  JOIN_ROUTES,
  SECRET_KEY_ROUTES,
  type SecretKeyRotation,
  type AnyObject,
  type JoinTokenCreate,
  type NodeRevokeResult,
  type ApplyResult,
  type AuditEntry,
  type CanIResult,
  type Token,
  type TokenCreate,
  type WhoAmI,
  type ConfigFileContent,
  type CronJobAction,
  type EndpointSet,
  type EndpointWatchEvent,
  type EventReport,
  type InstanceStatusReport,
  type InstanceStatusResult,
  type StatusBatchResult,
  type Kind,
  type LoadBalancerStatus,
  type Manifest,
  type NodeAction,
  type NodeStatus,
  type ObjectOf,
  type RolloutAction,
  type RolloutView,
  type RouteSpec,
  type VersionInfo,
  ExecTicketSchema,
  StatsListSchema,
  type StatsList,
  type ExecRequest,
  type ExecTicketAnswer,
  DryRunResultSchema,
  type DryRunResult,
} from '../core/index.js';
import { CallTimeout, HttpTransport, type TransportResponse } from './http-transport.js';
import { ndjsonLines } from './ndjson.js';
import { readText, type StreamResponse } from './stream-get.js';
import { tlsProblem } from './tls-trust.js';
import type { ClientListOptions, ClientOptions, ClientWatchEvent, ClientWatchOptions, GantryClient } from './types.js';

const enc = encodeURIComponent;
const DEFAULT_TIMEOUT_MS = 30_000;
/** How many times a 429 (rate limited) is waited out before it reaches the caller. */
const RATE_LIMIT_RETRIES = 3;
/** The longest Retry-After waited out; a longer one is the caller's error at once. */
const MAX_RETRY_AFTER_MS = 30_000;

/** For a 429: how long to wait before retrying (Retry-After in seconds; 1 s without one); undefined otherwise. */
function retryAfterMs(res: { status: number; headers: Record<string, string | string[] | undefined> }): number | undefined {
  if (res.status !== 429) return undefined;
  const h = res.headers['retry-after'];
  const seconds = Number(Array.isArray(h) ? h[0] : (h ?? '1'));
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
  return ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
}
/** Three of the server's 10 s bookmark intervals: a watch silent for longer is dead. */
const DEFAULT_WATCH_IDLE_TIMEOUT_MS = 30_000;

export interface HttpClientOptions extends ClientOptions {
  /**
   * A watch that receives nothing (not even a BOOKMARK) for this long is closed with UNAVAILABLE,
   * so the Informer (src/runtime) reconnects: this catches half-open connections. Default 30 s.
   */
  watchIdleTimeoutMs?: number | undefined;
  /**
   * The transport to send over; give many clients one to share its pool (gantry sim). Default: a
   * transport of this client's own, closed by close().
   */
  transport?: HttpTransport | undefined;
}

interface CallOptions {
  body?: unknown;
  query?: URLSearchParams;
  /** Ends the call early, besides the client's timeout. */
  signal?: AbortSignal | undefined;
  /** This call's timeout instead of the client's. */
  timeoutMs?: number | undefined;
}

/** The answers that carry the server's heartbeat pace (Gantry-Heartbeat-Interval). */
const PACED_ROUTES: ReadonlySet<RouteSpec> = new Set([ROUTES.heartbeat, ROUTES.statusBatch, ROUTES.events]);
/** The longest heartbeat interval a server may ask of this client (a bad header cannot silence it). */
export const MAX_ADVISED_HEARTBEAT_MS = MAX_HEARTBEAT_INTERVAL_MS;

function causeOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: string; message?: string } | undefined;
  return (e as NodeJS.ErrnoException).code ?? cause?.code ?? cause?.message ?? e.message;
}

/** `GET /api/v1/namespaces/{namespace}/services/{name}`: how a route is named in errors. */
function routeName(route: RouteSpec): string {
  return `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
}

/** The URL of a kind's collection: namespaced kinds without a namespace list all namespaces. */
export function collectionPath(kind: Kind, namespace: string | undefined): string {
  const k = kindInfo(kind);
  if (!k.namespaced || namespace === undefined) return `/api/v1/${k.plural}`;
  return `/api/v1/namespaces/${enc(namespace)}/${k.plural}`;
}

/** The URL of one object; a namespaced kind without a namespace means the default one. */
export function objectPath(kind: Kind, namespace: string | undefined, name: string): string {
  const ns = kindInfo(kind).namespaced ? (namespace ?? DEFAULT_NAMESPACE) : undefined;
  return `${collectionPath(kind, ns)}/${enc(name)}`;
}

function selectorQuery(opts: ClientListOptions | undefined): URLSearchParams {
  const q = new URLSearchParams();
  const fields = [...(opts?.field ? [`${opts.field.path}=${opts.field.value ?? ''}`] : []), ...(opts?.fieldSelector ? [opts.fieldSelector] : [])];
  if (fields.length > 0) q.set('fieldSelector', fields.join(','));
  if (opts?.labelSelector) q.set('labelSelector', opts.labelSelector);
  return q;
}

/** Connection failures after which a request cannot have reached the server: safe to send to another. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** ... and for a read, also a connection cut before the answer (a write may have been applied then). */
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE']);

export class HttpClient implements GantryClient {
  /** The servers of the cluster (`--server a,b,c`): requests go to one, and move on when it cannot be reached. */
  readonly servers: readonly string[];
  private at = 0;
  /**
   * The highest store revision a server has told us of (`Gantry-Revision`). With several servers,
   * reads carry it (`Gantry-Min-Revision`) so that a server whose copy is behind a write we made
   * through another waits before it answers (read your writes, docs/ha.md).
   */
  private seenRevision = 0;
  /** See GantryClient.leaseRenewedAt. */
  leaseRenewedAt: number | undefined;
  /** See GantryClient.advisedHeartbeatIntervalMs. */
  advisedHeartbeatIntervalMs: number | undefined;
  /** See GantryClient.statusTakesEvents. */
  statusTakesEvents: boolean | undefined;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly watchIdleTimeoutMs: number;
  private readonly transport: HttpTransport;
  private readonly ownsTransport: boolean;
  private readonly hasCa: boolean;

  constructor(opts: HttpClientOptions) {
    this.servers = opts.server.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== '');
    if (this.servers.length === 0) throw new UsageError('no Gantry server given: pass --server https://HOST:7070 (or several, comma-separated)');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.watchIdleTimeoutMs = opts.watchIdleTimeoutMs ?? DEFAULT_WATCH_IDLE_TIMEOUT_MS;
    this.hasCa = opts.ca !== undefined || opts.transport?.trustsCa === true;
    this.transport = opts.transport ?? new HttpTransport({ tls: { ca: opts.ca } });
    this.ownsTransport = opts.transport === undefined;
  }

  /** The server requests go to now. */
  get server(): string {
    return this.servers[this.at] as string;
  }

  /**
   * After a failure to connect to the current server: moves to the next one and says whether a retry
   * there makes sense (`tried` servers failed so far in this call).
   */
  private failover(e: unknown, tried: number, method: string): boolean {
    if (this.servers.length < 2 || tried >= this.servers.length) return false;
    const code = causeOf(e);
    if (!NOT_CONNECTED.has(code) && !(method === 'GET' && CUT_OFF.has(code))) return false;
    this.at = (this.at + 1) % this.servers.length;
    // Another server may be another version: what the last one said it takes is not known of this one.
    this.statusTakesEvents = undefined;
    return true;
  }

  async healthz(): Promise<boolean> {
    try {
      const res = await this.transport.request(new URL(`${this.server}/healthz`), { method: 'GET', headers: { accept: 'application/json' }, timeoutMs: this.timeoutMs });
      if (res.status !== 200) return false;
      const body: unknown = JSON.parse(res.text);
      return schemaErrors(HealthzSchema, body, '').length === 0 && (body as { ok: boolean }).ok;
    } catch {
      return false;
    }
  }

  async version(): Promise<VersionInfo> {
    return this.json(ROUTES.version, '/api/v1/version', VersionSchema);
  }

  async get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K>> {
    return this.json(routesOfKind(kind).get, objectPath(kind, namespace, name), objectSchema(kind));
  }

  async list<K extends Kind>(kind: K, opts?: ClientListOptions): Promise<{ items: ObjectOf<K>[]; revision: number }> {
    const route = opts?.namespace !== undefined || !kindInfo(kind).namespaced ? routesOfKind(kind).list : (routesOfKind(kind).listAll ?? routesOfKind(kind).list);
    const body = await this.json<{ items: ObjectOf<K>[]; metadata: { revision: number } }>(route, collectionPath(kind, opts?.namespace), listSchema(kind), {
      query: selectorQuery(opts),
    });
    return { items: body.items, revision: body.metadata.revision };
  }

  async create<M extends Manifest>(manifest: M): Promise<AnyObject> {
    const ns = kindInfo(manifest.kind).namespaced ? namespaceOf(manifest) : undefined;
    return this.json(routesOfKind(manifest.kind).create, collectionPath(manifest.kind, ns), objectSchema(manifest.kind), { body: manifest });
  }

  async apply(manifest: Manifest): Promise<{ object: AnyObject; result: ApplyResult }> {
    const route = routesOfKind(manifest.kind).apply;
    const path = objectPath(manifest.kind, manifest.metadata.namespace, manifest.metadata.name);
    const res = await this.call(route, path, { body: manifest });
    const header = res.headers['x-gantry-result'];
    const result: ApplyResult = header === 'created' || header === 'unchanged' ? header : res.status === 201 ? 'created' : 'configured';
    return { object: this.checked<AnyObject>(route, objectSchema(manifest.kind), res), result };
  }

  /** `?dryRun=true`: what the apply would do (diff, placement preview); nothing is stored. */
  async planApply(manifest: Manifest): Promise<DryRunResult> {
    const route = routesOfKind(manifest.kind).apply;
    const path = objectPath(manifest.kind, manifest.metadata.namespace, manifest.metadata.name);
    return this.json(route, path, DryRunResultSchema, { body: manifest, query: new URLSearchParams({ dryRun: 'true' }) });
  }

  async delete(kind: Kind, namespace: string | undefined, name: string): Promise<AnyObject> {
    return this.json(routesOfKind(kind).delete, objectPath(kind, namespace, name), objectSchema(kind));
  }

  async scale(namespace: string, name: string, replicas: number): Promise<ObjectOf<'Service'>> {
    return this.json(ROUTES.scale, `${objectPath('Service', namespace, name)}/scale`, ROUTES.scale.response, { body: { replicas } });
  }

  async stopInstance(namespace: string, name: string, reason?: string): Promise<ObjectOf<'Instance'>> {
    return this.json(ROUTES.stop, `${objectPath('Instance', namespace, name)}/stop`, ROUTES.stop.response, { body: reason === undefined ? {} : { reason } });
  }

  async instanceStats(namespace: string, name: string, since?: string): Promise<StatsList> {
    const q = since ? `?since=${encodeURIComponent(since)}` : '';
    return this.json(ROUTES.instanceStats, `${objectPath('Instance', namespace, name)}/stats${q}`, StatsListSchema);
  }

  async nodeStats(name: string, since?: string): Promise<StatsList> {
    const q = since ? `?since=${encodeURIComponent(since)}` : '';
    return this.json(ROUTES.nodeStats, `/api/v1/nodes/${encodeURIComponent(name)}/stats${q}`, StatsListSchema);
  }

  async execTicket(namespace: string, name: string, req: ExecRequest): Promise<ExecTicketAnswer> {
    return this.json(ROUTES.execTicket, `${objectPath('Instance', namespace, name)}/exec`, ExecTicketSchema, { body: req });
  }

  async cronJobAction(namespace: string, name: string, action: CronJobAction): Promise<ObjectOf<'Job'> | ObjectOf<'CronJob'>> {
    const route = action === 'trigger' ? ROUTES.cronTrigger : action === 'suspend' ? ROUTES.cronSuspend : ROUTES.cronResume;
    return this.json(route, `${objectPath('CronJob', namespace, name)}/${action}`, route.response, { body: {} });
  }

  async rollout(namespace: string, name: string): Promise<RolloutView> {
    return this.json(ROUTES.rollout, `${objectPath('Service', namespace, name)}/rollout`, RolloutViewSchema);
  }

  async rolloutAction(namespace: string, name: string, action: RolloutAction, body: { toVersion?: number } = {}): Promise<{ message: string; service: ObjectOf<'Service'> }> {
    return this.json(ROUTES.rolloutAction, `${objectPath('Service', namespace, name)}/rollout/${action}`, RolloutActionResultSchema, { body });
  }

  async issueToken(req: TokenCreate): Promise<{ token: string; object: Token }> {
    return this.json(ROUTES.tokenIssue, ROUTES.tokenIssue.path, ROUTES.tokenIssue.response, { body: req });
  }

  async createJoinToken(req: JoinTokenCreate): Promise<{ token: string; object: Token }> {
    return this.json(JOIN_ROUTES.joinTokens, JOIN_ROUTES.joinTokens.path, JOIN_ROUTES.joinTokens.response, { body: req });
  }

  async revokeNode(name: string): Promise<NodeRevokeResult> {
    return this.json(JOIN_ROUTES.nodeRevoke, `${objectPath('Node', undefined, name)}/revoke`, JOIN_ROUTES.nodeRevoke.response, { body: {} });
  }

  async rotateSecretKey(): Promise<SecretKeyRotation> {
    return this.json(SECRET_KEY_ROUTES.secretKeyRotate, SECRET_KEY_ROUTES.secretKeyRotate.path, SECRET_KEY_ROUTES.secretKeyRotate.response, { body: {} });
  }

  async revokeToken(id: string): Promise<Token> {
    return this.json(ROUTES.tokenRevoke, `/api/v1/tokens/${enc(id)}/revoke`, ROUTES.tokenRevoke.response, { body: {} });
  }

  async audit(q: { user?: string | undefined; since?: string | undefined; limit?: number | undefined }): Promise<AuditEntry[]> {
    const query = new URLSearchParams();
    if (q.user !== undefined) query.set('user', q.user);
    if (q.since !== undefined) query.set('since', q.since);
    if (q.limit !== undefined) query.set('limit', String(q.limit));
    const res = await this.json<{ items: AuditEntry[] }>(ROUTES.audit, ROUTES.audit.path, ROUTES.audit.response, { query });
    return res.items;
  }

  async whoami(): Promise<WhoAmI> {
    return this.json(ROUTES.whoami, ROUTES.whoami.path, ROUTES.whoami.response);
  }

  async canI(verb: string, kind: string, namespace?: string): Promise<CanIResult> {
    const query = new URLSearchParams({ verb, kind, ...(namespace !== undefined ? { namespace } : {}) });
    return this.json(ROUTES.canI, ROUTES.canI.path, ROUTES.canI.response, { query });
  }

  async nodeAction(name: string, action: NodeAction): Promise<{ message: string; node: ObjectOf<'Node'> }> {
    return this.json(ROUTES.nodeAction, `${objectPath('Node', undefined, name)}/${action}`, NodeActionResultSchema, { body: {} });
  }

  async updateNodeStatus(name: string, status: NodeStatus, revision?: number): Promise<ObjectOf<'Node'>> {
    const body = revision === undefined ? { status } : { status, metadata: { revision } };
    return this.json(routesOfKind('Node').status, `${objectPath('Node', undefined, name)}/status`, objectSchema('Node'), { body });
  }

  async heartbeat(nodeName: string, opts: { timeoutMs?: number | undefined } = {}): Promise<void> {
    await this.call(ROUTES.heartbeat, `${objectPath('Node', undefined, nodeName)}/heartbeat`, { timeoutMs: opts.timeoutMs });
  }

  async reportInstanceStatus(items: readonly InstanceStatusReport[]): Promise<InstanceStatusResult[]> {
    const body = await this.json<{ results: InstanceStatusResult[] }>(ROUTES.statusBatch, '/api/v1/status/instances', StatusBatchResultSchema, { body: { items } });
    return body.results;
  }

  async reportStatusWithEvents(items: readonly InstanceStatusReport[], events: readonly EventReport[], source?: string): Promise<StatusBatchResult> {
    return this.json<StatusBatchResult>(ROUTES.statusBatch, '/api/v1/status/instances', StatusBatchResultSchema, { body: { items, events, ...(source !== undefined ? { source } : {}) } });
  }

  async instanceFiles(namespace: string, name: string, node: string): Promise<ConfigFileContent[]> {
    const body = await this.json<{ files: ConfigFileContent[] }>(ROUTES.files, `${objectPath('Instance', namespace, name)}/files`, ConfigFilesSchema, {
      query: new URLSearchParams({ node }),
    });
    return body.files;
  }

  async recordEvents(items: readonly EventReport[], source?: string): Promise<void> {
    await this.json(ROUTES.events, '/api/v1/events', EventBatchResultSchema, { body: { items, ...(source !== undefined ? { source } : {}) } });
  }

  async *watch(opts: ClientWatchOptions, signal: AbortSignal): AsyncIterable<ClientWatchEvent> {
    const { kind } = opts;
    const query = selectorQuery(opts);
    query.set('watch', '1');
    if (opts.fromRevision !== undefined) query.set('revision', String(opts.fromRevision));
    if (opts.omitStatusChanges) query.set('omitStatusChanges', '1');
    const line = watchLineSchema(kind);
    const routes = routesOfKind(kind);
    const route = opts.namespace !== undefined || !kindInfo(kind).namespaced ? routes.list : (routes.listAll ?? routes.list);
    const idleMs = this.watchIdleTimeoutMs;
    const ac = new AbortController();
    let stalled = false;
    let consuming = false;
    // Fed by every line, BOOKMARKs included. Time the consumer spends on a line does not count.
    // Armed when the connection is set up, not before: a wait for a turn to set it up in (5,000
    // watches coming back at once wait in line, turn-pacer.ts) is no sign of a dead connection,
    // and timed out there they went to the back of the line again.
    let idle: NodeJS.Timeout | undefined;
    const check = (): void => {
      if (consuming) return void idle?.refresh();
      stalled = true;
      ac.abort();
    };
    const arm = (): void => {
      if (idle) idle.refresh();
      else idle = setTimeout(check, idleMs);
    };
    // Between attempts (a Retry-After wait, a failover, the next one's wait for a turn) nothing is set up to be quiet.
    const disarm = (): void => {
      clearTimeout(idle);
      idle = undefined;
    };
    try {
      let res: StreamResponse;
      try {
        res = await this.openStream(collectionPath(kind, opts.namespace), query, AbortSignal.any([signal, ac.signal]), { onAttempt: arm, onWait: disarm });
      } catch (e) {
        if (signal.aborted) return;
        if (stalled) throw this.stalledError(kind, idleMs);
        throw e;
      }
      arm(); // the headers came: quiet from here is counted (armed already unless the transport set nothing up)
      let event: ClientWatchEvent | undefined;
      try {
        for await (const raw of ndjsonLines(res.body)) {
          event = this.checkedLine<ClientWatchEvent>(route, line, raw, `watch of ${kind}`);
          consuming = true;
          try {
            yield event;
          } finally {
            consuming = false;
            arm();
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (stalled) throw this.stalledError(kind, idleMs);
        if (e instanceof AppError) throw e;
        if (e instanceof SyntaxError) throw new UnavailableError(`watch of ${kind} at ${this.server} sent a line that is not JSON: ${e.message}`);
        throw new UnavailableError(`watch of ${kind} at ${this.server} was cut off: ${causeOf(e)}; resume from the last revision seen`);
      }
    } finally {
      clearTimeout(idle);
      ac.abort(); // the consumer stopped early (break, return): close the connection
    }
  }

  async endpoints(namespace: string, service: string): Promise<EndpointSet> {
    return this.json(ROUTES.endpoints, `/api/v1/namespaces/${enc(namespace)}/endpoints/${enc(service)}`, EndpointSetSchema);
  }

  async loadBalancer(namespace: string, service: string): Promise<LoadBalancerStatus> {
    return this.json(ROUTES.loadBalancer, `/api/v1/namespaces/${enc(namespace)}/services/${enc(service)}/loadbalancer`, LoadBalancerStatusSchema);
  }

  async listEndpoints(namespace?: string): Promise<{ items: EndpointSet[]; revision: number }> {
    const [route, path] = namespace === undefined ? [ROUTES.endpointsAll, '/api/v1/endpoints'] : [ROUTES.endpointsList, `/api/v1/namespaces/${enc(namespace)}/endpoints`];
    const body = await this.json<{ items: EndpointSet[]; revision: number }>(route, path, EndpointSetListSchema);
    return { items: body.items, revision: body.revision };
  }

  async *watchEndpoints(namespace: string, service: string, signal: AbortSignal): AsyncIterable<EndpointWatchEvent> {
    const query = new URLSearchParams({ watch: '1' });
    let res: StreamResponse;
    try {
      res = await this.openStream(`/api/v1/namespaces/${enc(namespace)}/endpoints/${enc(service)}`, query, signal);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    try {
      for await (const raw of ndjsonLines(res.body)) yield this.checkedLine<EndpointWatchEvent>(ROUTES.endpoints, EndpointWatchLineSchema, raw, `endpoint watch of ${namespace}/${service}`);
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof AppError) throw e;
      throw new UnavailableError(`endpoint watch of ${namespace}/${service} at ${this.server} was cut off: ${causeOf(e)}`);
    }
  }

  async *logs(
    namespace: string,
    name: string,
    opts: { container?: string | undefined; follow?: boolean; tail?: number | undefined; timestamps?: boolean; previous?: boolean },
    signal?: AbortSignal,
  ): AsyncIterable<string> {
    const query = new URLSearchParams();
    if (opts.container) query.set('container', opts.container);
    if (opts.follow) query.set('follow', '1');
    if (opts.tail !== undefined) query.set('tail', String(opts.tail));
    if (opts.timestamps) query.set('timestamps', '1');
    if (opts.previous) query.set('previous', '1');
    const ac = new AbortController();
    const linked = signal ? AbortSignal.any([signal, ac.signal]) : ac.signal;
    try {
      let res: StreamResponse;
      try {
        res = await this.openStream(`${objectPath('Instance', namespace, name)}/log`, query, linked);
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const text = decoder.decode(chunk, { stream: true });
          if (text) yield text;
        }
        const rest = decoder.decode();
        if (rest) yield rest;
      } catch (e) {
        if (signal?.aborted) return;
        throw new UnavailableError(`log of instance ${namespace}/${name} was cut off: ${causeOf(e)}`);
      }
    } finally {
      ac.abort(); // the consumer stopped early: close the connection
    }
  }

  /** Closes the pooled connections of a transport this client made itself (a shared one is its owner's). */
  close(): void {
    if (this.ownsTransport) this.transport.close();
  }

  private stalledError(kind: Kind, idleMs: number): AppError {
    return new UnavailableError(`watch of ${kind} at ${this.server} received nothing for ${idleMs} ms, not even a bookmark: the connection looks dead; resume from the last revision seen`);
  }

  /** A failed connection in words: a TLS problem says what to fix; anything else, whether the server runs. */
  private unreachable(e: unknown): UnavailableError {
    const tls = tlsProblem(e, this.server, this.hasCa);
    if (tls) return new UnavailableError(tls);
    return new UnavailableError(`cannot reach the Gantry server at ${this.server}: ${causeOf(e)}. Is it running? Start it with npm run up / gantry up`);
  }

  /**
   * A streaming GET (no body timeout): non-2xx answers and network failures become AppErrors.
   * `hooks.onAttempt`: called as each attempt's connection is set up (HttpTransport.stream);
   * `hooks.onWait`: before each attempt and each Retry-After wait (no connection is set up then).
   */
  private async openStream(path: string, query: URLSearchParams, signal: AbortSignal, hooks: { onAttempt?: () => void; onWait?: () => void } = {}): Promise<StreamResponse> {
    const q = query.toString();
    for (let attempt = 0, tried = 1; ; attempt++) {
      const url = new URL(`${this.server}${path}${q ? `?${q}` : ''}`);
      let res: StreamResponse;
      try {
        hooks.onWait?.();
        res = await this.transport.stream(url, { authorization: `Bearer ${this.token}`, accept: 'application/json' }, signal, hooks.onAttempt);
      } catch (e) {
        if (signal.aborted) throw e;
        if (this.failover(e, tried++, 'GET')) continue;
        throw this.unreachable(e);
      }
      if (res.status >= 200 && res.status < 300) return res;
      const text = await readText(res.body).catch(() => '');
      const wait = attempt < RATE_LIMIT_RETRIES ? retryAfterMs(res) : undefined;
      if (wait === undefined) throw this.errorFrom(res.status, text);
      hooks.onWait?.();
      await sleep(wait, signal);
      if (signal.aborted) throw this.errorFrom(res.status, text);
    }
  }

  /** A JSON call whose answer must match `schema`. */
  private async json<T>(route: RouteSpec, path: string, schema: TSchema, opts: CallOptions = {}): Promise<T> {
    return this.checked<T>(route, schema, await this.call(route, path, opts));
  }

  /** The parsed body of a 2xx answer, once it matches the contract; an error naming the route otherwise. */
  private checked<T>(route: RouteSpec, schema: TSchema, res: TransportResponse): T {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw this.mismatch(route, `a body that is not JSON (${res.text.slice(0, 80) || 'empty'})`);
    }
    const errors = schemaErrors(schema, body, '');
    if (errors.length > 0) {
      const first = errors.slice(0, 3).map((e) => `${e.path || '(body)'} ${e.message}`).join('; ');
      throw this.mismatch(route, `a body that does not match the API contract: ${first}`);
    }
    return body as T;
  }

  private checkedLine<T>(route: RouteSpec, schema: TSchema, line: unknown, what: string): T {
    const errors = schemaErrors(schema, line, '');
    if (errors.length === 0) return line as T;
    const first = errors.slice(0, 3).map((e) => `${e.path || '(line)'} ${e.message}`).join('; ');
    throw new UnavailableError(`${what} at ${this.server} (${routeName(route)}) sent a line that does not match the API contract: ${first}`);
  }

  private mismatch(route: RouteSpec, what: string): AppError {
    return new UnavailableError(`the server at ${this.server} answered ${routeName(route)} with ${what}; is it a Gantry server of the same version?`);
  }

  /**
   * Sends a request over the pool; a 2xx answer comes back whole. Non-2xx answers and network
   * failures become AppErrors; the timeout covers the body too.
   */
  private async call(route: RouteSpec, path: string, opts: CallOptions): Promise<TransportResponse> {
    // 429: the server asks this credential to slow down; wait as told, a bounded number of times.
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(route, path, opts);
      const wait = attempt < RATE_LIMIT_RETRIES ? retryAfterMs(res) : undefined;
      if (wait === undefined) {
        if (res.status < 200 || res.status >= 300) throw this.errorFrom(res.status, res.text);
        return res;
      }
      await sleep(wait, opts.signal ?? new AbortController().signal);
      if (opts.signal?.aborted) throw this.errorFrom(res.status, res.text);
    }
  }

  private async send(route: RouteSpec, path: string, opts: CallOptions, tried = 1): Promise<TransportResponse> {
    const q = opts.query?.toString();
    const url = new URL(`${this.server}${path}${q ? `?${q}` : ''}`);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (route.method === 'GET' && this.servers.length > 1 && this.seenRevision > 0) headers['gantry-min-revision'] = String(this.seenRevision);
    let res: TransportResponse;
    try {
      res = await this.transport.request(url, {
        method: route.method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      if (e instanceof CallTimeout) {
        throw new UnavailableError(`the Gantry server at ${this.server} did not answer ${route.method} ${path} within ${opts.timeoutMs ?? this.timeoutMs} ms`);
      }
      if (this.failover(e, tried, route.method)) return this.send(route, path, opts, tried + 1);
      throw this.unreachable(e);
    }
    const told = Number(res.headers['gantry-revision']);
    if (Number.isSafeInteger(told)) {
      // 504: the server stayed behind what we had seen. Its revision is what we go by from now on
      // (a restored or moved store starts its revisions over), and the read is tried once more.
      if (res.status === 504 && told < Number(headers['gantry-min-revision'] ?? 0)) {
        this.seenRevision = told;
        return this.send(route, path, opts, tried);
      }
      if (told > this.seenRevision) this.seenRevision = told;
    }
    if (res.status >= 200 && res.status < 300) {
      if (res.headers[LEASE_HEADER] === LEASE_RENEWED) this.leaseRenewedAt = Date.now();
      // Asked again on every status answer: a server rolled back to a version without it says no more.
      if (route === ROUTES.statusBatch) this.statusTakesEvents = res.headers[STATUS_EVENTS_HEADER] === '1';
      // The pace rides on heartbeats and reports; one without it means "your own interval" (a
      // smaller cluster, or a server that does not pace). Never longer than MAX_ADVISED_HEARTBEAT_MS.
      if (PACED_ROUTES.has(route)) {
        const pace = Number(res.headers[HEARTBEAT_INTERVAL_HEADER]);
        this.advisedHeartbeatIntervalMs = Number.isSafeInteger(pace) && pace > 0 ? Math.min(pace, MAX_ADVISED_HEARTBEAT_MS) : undefined;
      }
    } else if (route === ROUTES.statusBatch) {
      // A refused report (an older server refuses the events field) sends the next one without events.
      this.statusTakesEvents = undefined;
    }
    return res;
  }

  /** The AppError a non-2xx answer stands for. */
  private errorFrom(status: number, text: string): AppError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const err = AppError.fromBody(status, body);
    // A proxy or a non-Gantry server answered: show what it said.
    if (body === undefined && text) return errorOf(err.code, `${err.message} from ${this.server}: ${text.slice(0, 200)}`);
    return err;
  }
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  return new HttpClient(opts);
}
