// Wire shapes of the service catalog (endpoints) and the load balancer's status. Plain data: the
// discovery folder builds them, the API serves them, the client and the CLI read them.
import Type, { type Static } from 'typebox';

export const EndpointSchema = Type.Object({
  namespace: Type.String(),
  service: Type.String(),
  instance: Type.String(),
  node: Type.String(),
  /** Where clients dial: the instance's host address (the node's publish address). */
  address: Type.String(),
  /** The container port's name (spec.containers[].ports[].name). */
  port: Type.String(),
  hostPort: Type.Integer(),
  containerPort: Type.Integer(),
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
  /** Only instances that pass their health checks (or have none and run) are endpoints. */
  health: Type.Literal('passing'),
});
export type Endpoint = Static<typeof EndpointSchema>;

export const EndpointSetSchema = Type.Object({
  namespace: Type.String(),
  service: Type.String(),
  /** The store revision of the last change that altered this set (0: never had endpoints). */
  revision: Type.Integer({ minimum: 0 }),
  endpoints: Type.Array(EndpointSchema),
});
export type EndpointSet = Static<typeof EndpointSetSchema>;

/** `GET /api/v1/endpoints`, `GET /api/v1/namespaces/NS/endpoints`. */
export const EndpointSetListSchema = Type.Object({
  kind: Type.Literal('EndpointSetList'),
  revision: Type.Integer({ minimum: 0 }),
  items: Type.Array(EndpointSetSchema),
});

/** A line of an endpoint watch: the current sets as ADDED, then changed sets as MODIFIED. */
export const EndpointWatchLineSchema = Type.Object({
  type: Type.Union([Type.Literal('ADDED'), Type.Literal('MODIFIED'), Type.Literal('BOOKMARK')]),
  revision: Type.Integer({ minimum: 0 }),
  object: Type.Optional(EndpointSetSchema),
});
export type EndpointWatchEvent = Static<typeof EndpointWatchLineSchema>;

export const EndpointQuerySchema = Type.Object({
  watch: Type.Optional(Type.String({ description: '1: an NDJSON watch stream instead of the sets' })),
});

export const LbServerStatusSchema = Type.Object({
  slot: Type.Integer(),
  instance: Type.String(),
  address: Type.String(),
  port: Type.Integer(),
  /** HAProxy's word for it: UP, DOWN, MAINT, DRAIN, "UP 1/2", ... or "unknown" when not asked. */
  state: Type.String(),
});
export type LbServerStatus = Static<typeof LbServerStatusSchema>;

export const LbEntryStateSchema = Type.Union([Type.Literal('Serving'), Type.Literal('Pending'), Type.Literal('Conflict'), Type.Literal('Failed'), Type.Literal('Off')]);
export type LbEntryState = Static<typeof LbEntryStateSchema>;

export const LbEntryStatusSchema = Type.Object({
  /** The container port's name (spec.expose[].port). */
  port: Type.String(),
  mode: Type.Union([Type.Literal('http'), Type.Literal('tcp')]),
  servicePort: Type.Optional(Type.Integer()),
  hostname: Type.Optional(Type.String()),
  /** Where clients connect: `127.0.0.1:18080` for a servicePort, `http://HOST:8080` for a hostname. */
  frontends: Type.Array(Type.String()),
  state: LbEntryStateSchema,
  message: Type.Optional(Type.String()),
  servers: Type.Array(LbServerStatusSchema),
});
export type LbEntryStatus = Static<typeof LbEntryStatusSchema>;

export const LbReloadSchema = Type.Object({
  result: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
  at: Type.String(),
  message: Type.Optional(Type.String()),
});
export type LbReload = Static<typeof LbReloadSchema>;

/** `GET .../services/NAME/loadbalancer`. */
export const LoadBalancerStatusSchema = Type.Object({
  kind: Type.Literal('LoadBalancerStatus'),
  namespace: Type.String(),
  service: Type.String(),
  /** False when this server runs no load balancer (--no-lb, or haproxy is not installed). */
  enabled: Type.Boolean(),
  /** The HAProxy master's PID while it runs. */
  pid: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
  lastReload: Type.Optional(LbReloadSchema),
  entries: Type.Array(LbEntryStatusSchema),
});
export type LoadBalancerStatus = Static<typeof LoadBalancerStatusSchema>;
