// The composition of the HTTP API: Fastify with our auth, error shape and routes. buildApp owns
// nothing it was given (the store, the logger); it owns its open streams and closes them on
// app.close().
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { EventCorrelator } from '../runtime/event-correlator.js';
import { NodeCount, type HeartbeatRate } from '../runtime/heartbeat-pace.js';
import type { EventRecorder } from '../runtime/event-recorder.js';
import type { NodeLeases } from '../runtime/node-leases.js';
import { API_VERSION, DEFAULT_NAMESPACE, isAppError, ROUTES, type SecretKeyRotation } from '../core/index.js';
import type { Catalog } from '../discovery/catalog.js';
import type { Store } from '../store/store.js';
import { randomBytes } from 'node:crypto';
import fastifyWebsocket from '@fastify/websocket';
import { registerAudit } from './audit-hook.js';
import { registerExecRoutes } from './exec-routes.js';
import { registerStatsRoutes } from './stats-routes.js';
import { ExecTickets } from './exec-ticket.js';
import type { AuditLog } from './audit-log.js';
import { Authenticator, registerAuth } from './auth.js';
import { registerLimits, RequestLimiter, type Limits } from './limits.js';
import { registerEndpointRoutes } from './endpoint-routes.js';
import { registerReadYourWrites } from './read-your-writes.js';
import { registerErrorHandler } from './error-handler.js';
import { registerEventRoutes } from './event-routes.js';
import { registerInstanceRoutes } from './instance-routes.js';
import { registerInstanceStopRoutes } from './instance-stop-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { registerLoadBalancerRoutes, type LoadBalancerReader } from './load-balancer-routes.js';
import { issueNodeCredential, registerJoinRoutes, type JoinDeps } from './join-routes.js';
import { boundNode, registerNodeAuthorizer } from './node-authorizer.js';
import { heartbeatFromReport, HeartbeatWrites } from './heartbeats.js';
import { registerNodeRoutes } from './node-routes.js';
import { registerObjectRoutes } from './object-routes.js';
import { openApiDocument } from './openapi.js';
import { OpenStreams } from './open-streams.js';
import type { RouteDeps } from './route-deps.js';
import { registerRolloutRoutes } from './rollout-routes.js';
import { registerServiceRoutes } from './service-routes.js';
import { registerSecretRedaction } from './secret-redaction.js';
import { registerConfigFileRoutes } from './config-file-routes.js';
import { registerConsoleRoutes } from './console-routes.js';
import { requireRegistryRoutes, serve, type RegisteredRoute } from './serve-route.js';
import { TokenMirror } from './token-mirror.js';
import { TokenUsage } from './token-usage.js';
import { ServerMetrics } from '../runtime/metrics.js';
import { registerSecretKeyRoutes } from './secret-key-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import { trackUnusedSockets } from './unused-sockets.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the app registered, each from the route registry (serve-route.ts). */
    registeredRoutes: readonly RegisteredRoute[];
    /** A node credential without a join token, for agents in the server's own process (gantry up, sim --embedded). */
    issueNodeCredential(node: { name: string; address: string; agentPort: number; labels?: Record<string, string> }): Promise<string>;
  }
}

export interface ApiDeps {
  store: Store;
  /** The bootstrap admin token (<data dir>/admin.token). */
  adminToken: string;
  logger: Logger;
  version: string;
  clusterId: string;
  /** Idle watch streams get a BOOKMARK this often; default 10 s. */
  bookmarkIntervalMs?: number;
  /** Clock for heartbeats; tests pin it. */
  now?: () => Date;
  /** Where the server's metrics go (GET /metrics); absent: a registry of the app's own. */
  metrics?: ServerMetrics | undefined;
  /** Seals every Secret with a new key (POST /api/v1/secret-key/rotate); absent: 503. */
  rotateSecretKey?: (() => Promise<SecretKeyRotation>) | undefined;
  /** How the log proxy calls agents over https:// (RouteDeps.agentTls). */
  agentTls?: { ca: string; cert: string; key: string } | undefined;
  /** Serve HTTPS with this certificate and key (PEM); absent: plain HTTP (loopback, or --insecure). */
  https?: { cert: string; key: string; sessionTimeoutSeconds?: number | undefined; sessionIdContext?: string | undefined } | undefined;
  /** Largest request body in bytes; default 16 MiB (batched status reports are large). */
  bodyLimit?: number;
  /** Records agents' events; share the controllers' one so repeats aggregate. Default: a new one. */
  events: EventRecorder;
  /**
   * Node leases shared with the node controller: a heartbeat then renews the lease and writes the
   * store only when the node turns ready or its stored heartbeat is `heartbeatPersistMs` old.
   * Without them every heartbeat is a store write. Give both sides the same table, or neither.
   */
  leases?: NodeLeases | undefined;
  /** With leases: how stale a ready node's stored `lastHeartbeat` may get; default 60 s, stretched in a big cluster (heartbeats.ts persistIntervalOf). */
  heartbeatPersistMs?: number | undefined;
  /**
   * With leases: the heartbeat rate big clusters are paced to (heartbeat-pace.ts), read at each
   * answer; default 500 a second. On etcd the leader's (server/etcd-heartbeat-pace.ts).
   */
  heartbeatRate?: HeartbeatRate | undefined;
  /**
   * With leases: where heartbeat writes run after their answers (heartbeats.ts); default a new
   * one. Tests pass their own to wait for them.
   */
  heartbeatWrites?: HeartbeatWrites | undefined;
  /** The service catalog behind /api/v1/.../endpoints; without it those routes answer 503. */
  catalog?: Catalog | undefined;
  /** Request rate and open watches per credential (limits.ts); default DEFAULT_LIMITS. */
  limits?: Limits | undefined;
  /**
   * The key exec tickets are signed with (32+ bytes): the same on every server of a cluster, so a
   * ticket from one works on another; absent: a random key of this process.
   */
  execTicketKey?: Uint8Array | undefined;
  /** Where audited requests are recorded (<data dir>/audit); absent: nowhere, and GET /api/v1/audit answers 503. */
  audit?: AuditLog | undefined;
  /** The cluster CA and what joins need; absent: nodes cannot join (503). */
  join?: JoinDeps | undefined;
  /** The built web console (web/dist) served at `/`; absent or not built: `/` says how to build it. */
  consoleDir?: string | undefined;
  /** The HAProxy load balancer behind .../services/NAME/loadbalancer; absent: enabled false. */
  loadBalancer?: LoadBalancerReader | undefined;
}

async function ensureDefaultNamespace(store: Store, logger: Logger): Promise<void> {
  if (await store.get('Namespace', undefined, DEFAULT_NAMESPACE)) return;
  try {
    await store.create({ apiVersion: API_VERSION, kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE, generation: 1 }, spec: {} });
    logger.info({ kind: 'Namespace', name: DEFAULT_NAMESPACE }, 'created the default namespace');
  } catch (e) {
    if (!isAppError(e, 'CONFLICT')) throw e; // another server made it first
  }
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  await ensureDefaultNamespace(deps.store, deps.logger);
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request info lines are too noisy with thousands of agents; see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? 16 * 2 ** 20,
    forceCloseConnections: 'idle',
    // TLS 1.3 only: its session resumption still makes a fresh ECDHE exchange, where a TLS 1.2
    // ticket carries the master secret (the server's ticket keys outlive a restart,
    // server/session-tickets.ts). sessionTimeout: how long a ticket resumes (Node's default 300 s).
    // sessionIdContext: a session resumes only where it matches, and Node's default is a hash of
    // the process's command line, which a restart with another --listen, or another server of the
    // cluster, does not share.
    ...(deps.https
      ? {
          https: {
            cert: deps.https.cert,
            key: deps.https.key,
            minVersion: 'TLSv1.3' as const,
            ...(deps.https.sessionTimeoutSeconds !== undefined && { sessionTimeout: deps.https.sessionTimeoutSeconds }),
            ...(deps.https.sessionIdContext !== undefined && { sessionIdContext: deps.https.sessionIdContext }),
          },
        }
      : {}),
    // Fastify types the app by the pino Logger it was given; callers see the base logger type.
  }) as unknown as FastifyInstance;
  const streams = new OpenStreams();
  // Token objects in memory: authentication is a map lookup, and a revoke applies at once.
  const tokens = new TokenMirror(deps.store, deps.logger.child({ component: 'tokens' }));
  const tokensStop = new AbortController();
  const tokensDone = tokens.run(tokensStop.signal);
  await tokens.synced;
  const limiter = new RequestLimiter(deps.limits);
  const metrics = deps.metrics ?? new ServerMetrics({ defaultMetrics: false });
  const heartbeatWrites = deps.leases ? (deps.heartbeatWrites ?? new HeartbeatWrites(deps.logger.child({ component: 'heartbeats' }))) : undefined;
  // The cluster's size for the heartbeat pace (runtime/heartbeat-pace.ts); only with leases.
  const nodeCount = deps.leases ? new NodeCount(deps.store) : undefined;
  const heartbeatOpts = { leases: deps.leases, persistIntervalMs: deps.heartbeatPersistMs, writes: heartbeatWrites, nodes: nodeCount, rate: deps.heartbeatRate };
  const routeDeps: RouteDeps = {
    store: deps.store,
    limiter,
    logger: deps.logger,
    streams,
    bookmarkIntervalMs: deps.bookmarkIntervalMs ?? 10_000,
    // Every node's agent takes its own endpoint secret (derived from its name: nothing stored).
    endpointToken: deps.join && ((node) => deps.join?.endpointToken(node)),
    agentTls: deps.agentTls,
    events: deps.events,
    leases: deps.leases,
    reportIsHeartbeat: (req, reply) => heartbeatFromReport(deps.store, boundNode(req.principal)?.name, (deps.now ?? (() => new Date()))(), heartbeatOpts, reply),
    tokens,
    metrics,
  };

  app.decorate('registeredRoutes', requireRegistryRoutes(app));
  // Exec sessions are WebSockets (exec-routes.ts); upgrades go through the same hooks as requests.
  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  metrics.countStreams(() => streams.size);
  app.addHook('onResponse', async (req, reply) => {
    const route = (req.routeOptions.config as { routeId?: string } | undefined)?.routeId ?? 'unmatched';
    metrics.apiRequests.observe({ route, method: req.method, code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  registerErrorHandler(app);
  const usage = new TokenUsage({ store: deps.store, logger: deps.logger.child({ component: 'tokens' }), now: deps.now });
  registerAuth(app, new Authenticator({ adminToken: deps.adminToken, tokens, now: deps.now, onUsed: (t) => usage.used(t) }));
  registerNodeAuthorizer(app, deps.store, streams);
  // After auth (hooks run in order): limits count per credential.
  registerLimits(app, limiter);
  registerSecretRedaction(app);
  // After auth: a read that waits for this server's copy is an authenticated one.
  registerReadYourWrites(app, deps.store);
  registerAudit(app, deps.audit);
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // Watches and followed logs never end by themselves: end them so close() does not hang.
  const sockets = trackUnusedSockets(app.server);
  app.addHook('preClose', async () => {
    streams.abortAll();
    sockets.destroyUnused();
  });
  const agentEvents = new EventCorrelator(deps.events, deps.store, { logger: deps.logger.child({ component: 'events' }) });
  app.addHook('onClose', async () => {
    tokensStop.abort();
    await agentEvents.close();
    await usage.settled();
    await heartbeatWrites?.idle();
    await tokensDone;
  });

  // Every route comes from the registry (core/api/routes.ts); route-table.test.ts checks the app against it.
  serve(app, ROUTES.healthz, async () => ({ ok: true }));
  serve(app, ROUTES.metrics, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  const openapi = openApiDocument(deps.version);
  serve(app, ROUTES.openapi, async () => openapi);
  serve(app, ROUTES.version, async () => ({
    version: deps.version,
    apiVersion: API_VERSION,
    revision: await deps.store.currentRevision(),
    clusterId: deps.clusterId,
  }));
  registerObjectRoutes(app, routeDeps);
  registerServiceRoutes(app, routeDeps);
  registerRolloutRoutes(app, routeDeps);
  registerInstanceRoutes(app, routeDeps, agentEvents);
  registerInstanceStopRoutes(app, routeDeps);
  registerNodeRoutes(app, routeDeps, { now: deps.now ?? (() => new Date()), heartbeatPersistMs: deps.heartbeatPersistMs, heartbeatWrites, nodes: nodeCount, heartbeatRate: deps.heartbeatRate });
  registerEventRoutes(app, routeDeps, agentEvents);
  registerConfigFileRoutes(app, routeDeps);
  registerJoinRoutes(app, routeDeps, deps.join, deps.now ?? (() => new Date()));
  app.decorate('issueNodeCredential', (node: { name: string; address: string; agentPort: number; labels?: Record<string, string> }) =>
    issueNodeCredential(routeDeps, node, (deps.now ?? (() => new Date()))()),
  );
  registerJobRoutes(app, routeDeps);
  registerEndpointRoutes(app, routeDeps, deps.catalog);
  registerLoadBalancerRoutes(app, routeDeps, deps.loadBalancer);
  registerTokenRoutes(app, routeDeps, deps.now ?? (() => new Date()));
  registerSecretKeyRoutes(app, routeDeps, deps.rotateSecretKey);
  registerStatsRoutes(app, routeDeps);
  registerExecRoutes(app, routeDeps, { tickets: new ExecTickets({ key: deps.execTicketKey ?? randomBytes(32) }), audit: deps.audit });
  await registerConsoleRoutes(app, deps.consoleDir);
  await app.ready();
  return app;
}
