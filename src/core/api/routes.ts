// The route registry: every route of the API declared once, with its method, URL, schemas and who
// may call it. The API registers its Fastify routes from these entries (src/api/serve-route.ts),
// serves an OpenAPI document built from them, and a route-table test walks them. Plain data: the
// handlers live in src/api.
import Type, { type TSchema } from 'typebox';
import { KINDS, type KindInfo } from '../kinds.js';
import type { Kind } from '../schema.js';
import {
  actionParamSchema,
  NODE_ACTIONS,
  NodeActionResultSchema,
  ROLLOUT_ACTIONS,
  RolloutActionResultSchema,
  RolloutViewSchema,
  ScaleSchema,
  StopSchema,
  UndoSchema,
} from './actions.js';
import { ConfigFilesQuerySchema, ConfigFilesSchema, EventBatchResultSchema, EventBatchSchema, StatusBatchResultSchema, StatusBatchSchema } from './agents.js';
import { EndpointQuerySchema, EndpointSetListSchema, EndpointSetSchema, EndpointWatchLineSchema, LoadBalancerStatusSchema } from './discovery.js';
import type { PersonRole } from './auth.js';
import { AuditListSchema, AuditQuerySchema } from './audit.js';
import { JOIN_ROUTES } from './join.js';
import { SECRET_KEY_ROUTES } from './secret-key.js';
import { ApplyQuerySchema, CONSOLE_ROUTES } from './console.js';
import { LogQuerySchema } from './logs.js';
import { ExecRequestSchema, ExecSessionQuerySchema, ExecTicketSchema } from './exec.js';
import { StatsListSchema } from './stats.js';
import { CanIQuerySchema, CanIResultSchema, TokenCreatedSchema, TokenCreateSchema, WhoAmISchema } from './tokens.js';
import { HealthzSchema, ListQuerySchema, listSchema, objectSchema, StatusWriteSchema, VersionSchema, watchLineSchema } from './objects.js';

/**
 * Who may call a route: a cluster administrator, a node about its own objects (what object it may
 * touch is checked in the handler), or a person with at least a role (roles nest admin ⊃ edit ⊃
 * view ⊃ metrics; a person's role applies in its namespaces only: see src/api/auth.ts).
 */
export type Caller = 'admin' | 'node' | { role: Exclude<PersonRole, 'admin'> };

export type Access =
  /** `ticket`: no token, the request carries a signed single-use ticket instead (exec WebSockets). */
  | { public: true; ticket?: true }
  | {
      public?: false;
      /** Empty: nobody (the route exists to say so, e.g. status written by Gantry only). */
      allow: readonly Caller[];
      /** The 403 message for a caller not allowed; says what to do instead. */
      forbidden?: string;
    };

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  /** Unique; `services.apply`, `nodes.heartbeat`. */
  id: string;
  method: Method;
  /** Fastify's syntax: `/api/v1/namespaces/:namespace/services/:name`. */
  path: string;
  summary: string;
  access: Access;
  params?: TSchema;
  query?: TSchema;
  /** The JSON request body; absent: none is read. */
  body?: TSchema;
  /** The JSON body of a success; absent with `status: 204` or a text answer. */
  response?: TSchema;
  /** The success status; default 200. */
  status?: 200 | 201 | 204;
  /** `?watch=1` turns the answer into NDJSON lines of this shape. */
  watch?: TSchema;
  /** The answer is text/plain (logs). */
  text?: boolean;
}

export const PUBLIC: Access = { public: true };
const viewer: Caller = { role: 'view' };
const editor: Caller = { role: 'edit' };
/** Reads: every person who may view, and nodes (agents read their instances and the catalog). */
export const READ: Access = { allow: [viewer, 'node'] };
/** Reads of credentials: cluster administrators only. */
const ADMIN_READ: Access = { allow: ['admin'], forbidden: 'only a cluster administrator may read tokens; see gantry token list' };

export const STATUS_FORBIDDEN = 'status is written by Gantry; change spec instead';
export const EVENTS_FORBIDDEN = 'events are written by Gantry (agents and controllers); read them with GET or gantry get events';

const Name = Type.String({ minLength: 1 });
const nsName = Type.Object({ namespace: Name, name: Name });
const nameOnly = Type.Object({ name: Name });

/** Who may create and apply objects of a kind. */
function writeAccess(k: KindInfo): Access {
  if (!k.userWritable) {
    return { allow: [], forbidden: `${k.kind} objects are written by Gantry only${k.kind === 'Instance' ? '; apply a Service and Gantry creates its instances' : k.kind === 'Token' ? '; use gantry token create' : ''}` };
  }
  const forbidden = k.namespaced ? `changing ${k.plural} needs role edit in the namespace` : `only an administrator may change ${k.plural}; the agent token registers nodes and writes status`;
  // Agents register their own node; cluster-wide kinds are the administrator's.
  if (k.kind === 'Node') return { allow: ['admin', 'node'], forbidden };
  return { allow: [k.namespaced ? editor : 'admin'], forbidden };
}

function statusAccess(k: KindInfo): Access {
  return { allow: k.kind === 'Node' || k.kind === 'Instance' ? ['node'] : [], forbidden: STATUS_FORBIDDEN };
}

function deleteAccess(k: KindInfo): Access {
  return { allow: [k.namespaced ? editor : 'admin'], forbidden: k.namespaced ? `deleting ${k.plural} needs role edit in the namespace` : `only an administrator may delete ${k.plural}` };
}

/** The base path of a kind's collection in one namespace (or cluster-wide). */
export function basePath(k: KindInfo): string {
  return k.namespaced ? `/api/v1/namespaces/:namespace/${k.plural}` : `/api/v1/${k.plural}`;
}

/** The generic routes of one kind: list (and watch), get, create, apply, delete, status. */
function kindRoutes(k: KindInfo) {
  const base = basePath(k);
  const object = objectSchema(k.kind);
  const baseParams = k.namespaced ? Type.Object({ namespace: Name }) : undefined;
  const params = k.namespaced ? nsName : nameOnly;
  const read = k.adminOnly ? ADMIN_READ : READ;
  const list = {
    method: 'GET',
    access: read,
    query: ListQuerySchema,
    response: listSchema(k.kind),
    watch: watchLineSchema(k.kind),
  } as const;
  return {
    list: { ...list, id: `${k.plural}.list`, path: base, summary: `list or watch ${k.plural}${k.namespaced ? ' in a namespace' : ''}`, ...(baseParams ? { params: baseParams } : {}) },
    ...(k.namespaced ? { listAll: { ...list, id: `${k.plural}.listAll`, path: `/api/v1/${k.plural}`, summary: `list or watch ${k.plural} of every namespace` } } : {}),
    get: { id: `${k.plural}.get`, method: 'GET', path: `${base}/:name`, summary: `one ${k.kind}`, access: read, params, response: object },
    create: {
      id: `${k.plural}.create`,
      method: 'POST',
      path: base,
      summary: `create a ${k.kind}`,
      access: writeAccess(k),
      ...(baseParams ? { params: baseParams } : {}),
      body: Type.Unknown({ description: `a ${k.kind} manifest; validated against the kind's schema (422 with field paths)` }),
      response: object,
      status: 201,
    },
    apply: {
      id: `${k.plural}.apply`,
      method: 'PUT',
      path: `${base}/:name`,
      summary: `create or replace a ${k.kind} (201 created, 200 otherwise; header x-gantry-result)`,
      access: writeAccess(k),
      params,
      query: ApplyQuerySchema,
      body: Type.Unknown({ description: `a ${k.kind} manifest; with metadata.revision a compare-and-swap; ?dryRun=true answers a plan (DryRunResult) and stores nothing` }),
      response: object,
    },
    delete: { id: `${k.plural}.delete`, method: 'DELETE', path: `${base}/:name`, summary: `delete a ${k.kind}; answers it as it was`, access: deleteAccess(k), params, response: object },
    status: {
      id: `${k.plural}.status`,
      method: 'PUT',
      path: `${base}/:name/status`,
      summary: `write a ${k.kind}'s status`,
      access: statusAccess(k),
      params,
      body: StatusWriteSchema,
      response: object,
    },
  } satisfies Record<string, RouteSpec>;
}

export type KindRoutes = ReturnType<typeof kindRoutes>;

const BY_KIND = new Map<Kind, KindRoutes>(KINDS.map((k) => [k.kind, kindRoutes(k)]));

/** The generic routes of `kind`. */
export function routesOfKind(kind: Kind): KindRoutes {
  const r = BY_KIND.get(kind);
  if (!r) throw new Error(`unknown kind ${kind}`);
  return r;
}

const svc = '/api/v1/namespaces/:namespace/services/:name';
const inst = '/api/v1/namespaces/:namespace/instances/:name';
const cron = '/api/v1/namespaces/:namespace/cronjobs/:name';
const cronAccess = (what: string): Access => ({ allow: [editor], forbidden: `to ${what} cron jobs needs role edit in the namespace` });

/** The routes beyond the generic ones, by id. */
export const ROUTES = {
  healthz: { id: 'healthz', method: 'GET', path: '/healthz', summary: 'is the server up; no token needed', access: PUBLIC, response: HealthzSchema },
  metrics: {
    id: 'metrics',
    method: 'GET',
    path: '/metrics',
    summary: "the server's Prometheus metrics (text format 0.0.4): API, store, controllers, scheduler, event loop, nodes and instances",
    access: { allow: ['admin', { role: 'metrics' }] },
    response: Type.String(),
  },
  version: { id: 'version', method: 'GET', path: '/api/v1/version', summary: 'server version, API version, current revision, cluster id', access: READ, response: VersionSchema },
  openapi: { id: 'openapi', method: 'GET', path: '/api/v1/openapi.json', summary: 'this API as an OpenAPI 3.1 document, built from the route registry', access: PUBLIC, response: Type.Object({}) },
  scale: {
    id: 'services.scale',
    method: 'PUT',
    path: `${svc}/scale`,
    summary: 'set spec.replicas only',
    access: { allow: [editor], forbidden: 'scaling services needs role edit in the namespace' },
    params: nsName,
    body: ScaleSchema,
    response: objectSchema('Service'),
  },
  rollout: { id: 'services.rollout', method: 'GET', path: `${svc}/rollout`, summary: 'rollout status and version history', access: READ, params: nsName, response: RolloutViewSchema },
  rolloutAction: {
    id: 'services.rolloutAction',
    method: 'POST',
    path: `${svc}/rollout/:action`,
    summary: 'pause, resume, promote or undo a rollout; undo takes { toVersion? }',
    access: { allow: [editor], forbidden: 'changing rollouts needs role edit in the namespace' },
    params: Type.Object({ namespace: Name, name: Name, action: actionParamSchema(ROLLOUT_ACTIONS) }),
    body: Type.Union([UndoSchema, Type.Object({})]),
    response: RolloutActionResultSchema,
  },
  loadBalancer: {
    id: 'services.loadBalancer',
    method: 'GET',
    path: `${svc}/loadbalancer`,
    summary: "what the load balancer does for the service's spec.expose",
    access: READ,
    params: nsName,
    response: LoadBalancerStatusSchema,
  },
  statusBatch: {
    id: 'instances.statusBatch',
    method: 'POST',
    path: '/api/v1/status/instances',
    summary: 'batched instance status from an agent',
    access: { allow: ['node'], forbidden: STATUS_FORBIDDEN },
    body: StatusBatchSchema,
    response: StatusBatchResultSchema,
  },
  log: {
    id: 'instances.log',
    method: 'GET',
    path: `${inst}/log`,
    summary: "a container's log, proxied from the node's agent",
    access: READ,
    params: nsName,
    query: LogQuerySchema,
    text: true,
  },
  stop: {
    id: 'instances.stop',
    method: 'POST',
    path: `${inst}/stop`,
    summary: 'ask the node to stop the instance gracefully (sets spec.stop)',
    access: { allow: [editor], forbidden: 'stopping instances needs role edit in the namespace' },
    params: nsName,
    body: StopSchema,
    response: objectSchema('Instance'),
  },
  execTicket: {
    id: 'instances.exec',
    method: 'POST',
    path: `${inst}/exec`,
    summary: 'ask for an exec session in a container of the instance: answers a signed ticket (30 s, single use) for the WebSocket',
    access: { allow: [editor], forbidden: 'exec needs role edit in the namespace' },
    params: nsName,
    body: ExecRequestSchema,
    response: ExecTicketSchema,
  },
  execSession: {
    id: 'instances.execSession',
    method: 'GET',
    path: `${inst}/exec`,
    summary: 'the exec session: a WebSocket upgrade carrying ?ticket= (no token: browsers cannot send one); frames as docs/operate.md',
    access: { public: true, ticket: true },
    params: nsName,
    query: ExecSessionQuerySchema,
  },
  instanceStats: {
    id: 'instances.stats',
    method: 'GET',
    path: `${inst}/stats`,
    summary:
      "the instance's live usage per container from its node's agent: samples of the last 15 minutes (?since= ISO time), beside its requests; ?watch=1 then streams each new round's samples as NDJSON lines as the agent takes them",
    access: READ,
    params: nsName,
    query: Type.Object({
      since: Type.Optional(Type.String({ description: 'only samples at or after this ISO time' })),
      watch: Type.Optional(Type.String({ description: '1: after the samples so far, one line per new sampling round (and an empty line of items when idle)' })),
    }),
    response: StatsListSchema,
    watch: StatsListSchema,
  },
  nodeStats: {
    id: 'nodes.stats',
    method: 'GET',
    path: '/api/v1/nodes/:name/stats',
    summary: "live usage of every container on the node, from its agent (the latest samples; ?since= for more)",
    access: READ,
    params: Type.Object({ name: Name }),
    query: Type.Object({ since: Type.Optional(Type.String({ description: 'only samples at or after this ISO time' })) }),
    response: StatsListSchema,
  },
  nodeMetrics: {
    id: 'nodes.metrics',
    method: 'GET',
    path: '/api/v1/nodes/:name/metrics',
    summary: "the node agent's container metrics (Prometheus text, cAdvisor's names), proxied: agents answer the server only",
    access: { allow: ['admin', { role: 'metrics' }] },
    params: Type.Object({ name: Name }),
    response: Type.String(),
  },
  files: {
    id: 'instances.files',
    method: 'GET',
    path: `${inst}/files`,
    summary: "the instance's config files with content resolved (Secrets included)",
    access: { allow: ['node'], forbidden: 'config file contents go only to agents (the agent token); read Configs with gantry get config NAME -o yaml' },
    params: nsName,
    query: ConfigFilesQuerySchema,
    response: ConfigFilesSchema,
  },
  heartbeat: {
    id: 'nodes.heartbeat',
    method: 'POST',
    path: '/api/v1/nodes/:name/heartbeat',
    summary: "a node's agent is alive (renews its lease)",
    access: { allow: ['node'], forbidden: 'heartbeats come from agents: use the agent token' },
    params: nameOnly,
    status: 204,
  },
  nodeAction: {
    id: 'nodes.action',
    method: 'POST',
    path: '/api/v1/nodes/:name/:action',
    summary: 'cordon, uncordon or drain a node; idempotent',
    access: { allow: ['admin'], forbidden: 'only an administrator may cordon, uncordon or drain nodes' },
    params: Type.Object({ name: Name, action: actionParamSchema(NODE_ACTIONS) }),
    body: Type.Object({}),
    response: NodeActionResultSchema,
  },
  events: {
    id: 'events.record',
    method: 'POST',
    path: '/api/v1/events',
    summary: 'batched events from an agent',
    access: { allow: ['node'], forbidden: EVENTS_FORBIDDEN },
    body: EventBatchSchema,
    response: EventBatchResultSchema,
  },
  cronTrigger: { id: 'cronjobs.trigger', method: 'POST', path: `${cron}/trigger`, summary: 'a Job now', access: cronAccess('trigger'), params: nsName, response: objectSchema('Job'), status: 201 },
  cronSuspend: { id: 'cronjobs.suspend', method: 'POST', path: `${cron}/suspend`, summary: 'set spec.suspend', access: cronAccess('suspend'), params: nsName, response: objectSchema('CronJob') },
  cronResume: { id: 'cronjobs.resume', method: 'POST', path: `${cron}/resume`, summary: 'clear spec.suspend', access: cronAccess('resume'), params: nsName, response: objectSchema('CronJob') },
  endpointsAll: {
    id: 'endpoints.listAll',
    method: 'GET',
    path: '/api/v1/endpoints',
    summary: "every service's endpoints",
    access: READ,
    query: EndpointQuerySchema,
    response: EndpointSetListSchema,
    watch: EndpointWatchLineSchema,
  },
  endpointsList: {
    id: 'endpoints.list',
    method: 'GET',
    path: '/api/v1/namespaces/:namespace/endpoints',
    summary: "the endpoints of a namespace's services",
    access: READ,
    params: Type.Object({ namespace: Name }),
    query: EndpointQuerySchema,
    response: EndpointSetListSchema,
    watch: EndpointWatchLineSchema,
  },
  endpoints: {
    id: 'endpoints.get',
    method: 'GET',
    path: '/api/v1/namespaces/:namespace/endpoints/:service',
    summary: 'the ready endpoints of one service',
    access: READ,
    params: Type.Object({ namespace: Name, service: Name }),
    query: EndpointQuerySchema,
    response: EndpointSetSchema,
    watch: EndpointWatchLineSchema,
  },
  tokenIssue: {
    id: 'tokens.issue',
    method: 'POST',
    path: '/api/v1/auth/tokens',
    summary: "create a person's token; the answer holds the token string, shown this once",
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may create tokens' },
    body: TokenCreateSchema,
    response: TokenCreatedSchema,
    status: 201,
  },
  tokenRevoke: {
    id: 'tokens.revoke',
    method: 'POST',
    path: '/api/v1/tokens/:name/revoke',
    summary: 'revoke a token at once (sets status.revokedAt); idempotent',
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may revoke tokens' },
    params: nameOnly,
    body: Type.Object({}),
    response: objectSchema('Token'),
  },
  whoami: {
    id: 'auth.whoami',
    method: 'GET',
    path: '/api/v1/auth/whoami',
    summary: 'who the token stands for: admin, a user with a role in namespaces, or a node',
    // Every principal: admin, nodes, and persons of any role (metrics is the least).
    access: { allow: ['admin', 'node', { role: 'metrics' }] },
    response: WhoAmISchema,
  },
  canI: {
    id: 'auth.canI',
    method: 'GET',
    path: '/api/v1/auth/can-i',
    summary: 'whether the token may do VERB on KIND (in a namespace), answered from the same policies the server enforces',
    access: { allow: ['admin', 'node', { role: 'metrics' }] },
    query: CanIQuerySchema,
    response: CanIResultSchema,
  },
  audit: {
    id: 'audit.list',
    method: 'GET',
    path: '/api/v1/audit',
    summary: 'entries of the audit log (writes, log and Secret reads, refusals), oldest first',
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may read the audit log' },
    query: AuditQuerySchema,
    response: AuditListSchema,
  },
} as const satisfies Record<string, RouteSpec>;

/** Every route of the API, generic ones first. */
export const ALL_ROUTES: readonly RouteSpec[] = [...KINDS.flatMap((k) => Object.values(routesOfKind(k.kind)) as RouteSpec[]), ...Object.values(ROUTES), ...Object.values(JOIN_ROUTES), ...Object.values(SECRET_KEY_ROUTES), ...Object.values(CONSOLE_ROUTES)];

/** The callers a route lets in (undefined for a public one). */
export function allowedCallers(access: Access): readonly Caller[] | undefined {
  return access.public ? undefined : access.allow;
}


const CONTAINER_ID = '[A-Za-z0-9_.-]+';

/**
 * The agent's own endpoint (src/agent/node/agent-server.ts, a plain node:http server, not the
 * API): the server's log proxy calls it with the agent token. `gantry sim` serves the same path
 * behind `/nodes/<node>` for each hollow node (shared-log-server.ts).
 */
export const AGENT_ROUTES = {
  containerLog: {
    id: 'agent.containerLog',
    method: 'GET',
    path: '/v1/containers/:id/log',
    summary: "a container's log as text/plain; only containers of this node",
    // Holders of the agent token: the server, when it proxies a log.
    access: { allow: ['node'], forbidden: 'missing or wrong agent token: send "Authorization: Bearer <agent token>"' },
    params: Type.Object({ id: Type.String({ pattern: `^${CONTAINER_ID}$` }) }),
    query: Type.Object({
      follow: Type.Optional(Type.String({ description: '1: keep streaming new lines' })),
      tail: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'only the last N lines' })),
    }),
    text: true,
  },
  nodeContainerLog: {
    id: 'agent.nodeContainerLog',
    method: 'GET',
    path: '/nodes/:node/v1/containers/:id/log',
    summary: "a container's log, naming the node: what the server's log proxy calls (a log server shared by hollow nodes serves many nodes)",
    access: { allow: ['node'], forbidden: 'missing or wrong agent token: send "Authorization: Bearer <agent token>"' },
    params: Type.Object({ node: Name, id: Type.String({ pattern: `^${CONTAINER_ID}$` }) }),
    query: Type.Object({
      follow: Type.Optional(Type.String({ description: '1: keep streaming new lines' })),
      tail: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'only the last N lines' })),
    }),
    text: true,
  },
  nodeStats: {
    id: 'agent.nodeStats',
    method: 'GET',
    path: '/nodes/:node/v1/stats',
    summary: "live usage of this node's containers from the agent's memory (JSON `{ items: ContainerSeries[] }`); what the server's stats routes call",
    access: { allow: ['node'], forbidden: "only the server's client certificate (or the node's endpoint secret) gets in" },
    params: Type.Object({ node: Name }),
    query: Type.Object({
      namespace: Type.Optional(Name),
      instance: Type.Optional(Name),
      since: Type.Optional(Type.String({ description: 'only samples at or after this ISO time' })),
      wait: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'with since: wait up to this many ms (at most 30000) for the next sampling round when there is no newer sample' })),
    }),
  },
  nodeMetrics: {
    id: 'agent.nodeMetrics',
    method: 'GET',
    path: '/nodes/:node/v1/metrics',
    summary: "this node's container metrics in Prometheus' text format, with cAdvisor's names and labels",
    access: { allow: ['node'], forbidden: "only the server's client certificate (or the node's endpoint secret) gets in" },
    params: Type.Object({ node: Name }),
    text: true,
  },
  nodeContainerExec: {
    id: 'agent.nodeContainerExec',
    method: 'GET',
    path: '/nodes/:node/v1/containers/:id/exec',
    summary: 'an exec session in a container of this node (WebSocket upgrade, frames as docs/operate.md); what the server\'s exec proxy opens',
    access: { allow: ['node'], forbidden: "only the server's client certificate (or the node's endpoint secret) gets in" },
    params: Type.Object({ node: Name, id: Type.String({ pattern: `^${CONTAINER_ID}$` }) }),
    query: Type.Object({
      command: Type.Array(Type.String(), { description: 'repeated: the argv, e.g. command=sh&command=-c&command=...' }),
      tty: Type.Optional(Type.String({ description: '1: a pseudo-terminal' })),
      stdin: Type.Optional(Type.String({ description: '1: attach stdin' })),
      cols: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
      rows: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
    }),
  },
} as const satisfies Record<string, RouteSpec>;

/** A regular expression source matching a route's path, one capture group per parameter (`:id` of the agent route takes a container id). */
export function pathPattern(route: RouteSpec): string {
  return route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z]+)/g, (_m, name: string) => (name === 'id' ? `(${CONTAINER_ID})` : '([^/]+)'));
}

/** A route's path with its parameters filled in (URL-encoded). */
export function fillPath(route: RouteSpec, params: Readonly<Record<string, string>>): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
}
