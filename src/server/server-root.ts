// Composition root of the control plane: the only place that builds the store, the runtime kit,
// the API, the controllers and discovery and wires them together. Used by `gantry server`,
// `gantry up` and `gantry sim` (through src/server/index.ts).
//
// Two kinds of parts:
//   every server:      the API (REST, watches), the catalog's informers that serve reads
//                      (endpoints API, DNS), the load balancer, the event recorder, node leases;
//   leader-only:       the controllers (service, scheduling, node lifecycle, drain, crash loop,
//                      job, cron) and event GC. They start when the LeaderLease is held and stop
//                      when it is lost (runLeaderOnly in leader-lease.ts).
//
// Shutdown order, one and fixed (close() below; a failed start unwinds the same way):
//   1. stop accepting: the DNS server closes, the API takes no new connections;
//   2. stop the leader-only parts and give the lease up;
//   3. drain: the API ends its watches and open requests; the catalog and the load balancer stop;
//   4. close the store, then release the data directory's lock.
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Server as TlsServer } from 'node:tls';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { AuditLog } from '../api/audit-log.js';
import { EventRecorder, type EventRetention } from '../runtime/event-recorder.js';
import { DEFAULT_CONTROLLER_OPTIONS, startControllers } from '../controllers/index.js';
import { heartbeatStretchMs, MAX_HEARTBEATS_PER_SECOND } from '../runtime/heartbeat-pace.js';
import { NodeLeases } from '../runtime/node-leases.js';
import { LoopMonitor } from '../runtime/loop-monitor.js';
import { sleep, UnavailableError, untilAborted } from '../core/index.js';
import { Catalog } from '../discovery/catalog.js';
import { DnsServer, type DnsListenAddress } from '../discovery/dns-server.js';
import { LoadBalancer } from '../discovery/haproxy/load-balancer.js';
import { SecretBox } from '../store/secret-box.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { EtcdStore, openEtcdStore } from '../store/etcd-store.js';
import type { Store } from '../store/store.js';
import { EtcdLeaderLease } from './etcd-leader-lease.js';
import { EtcdNodeLeases } from './etcd-node-leases.js';
import { EtcdHeartbeatPace } from './etcd-heartbeat-pace.js';
import { clusterCounts, instrumentStore } from '../runtime/instrumented-store.js';
import { ServerMetrics } from '../runtime/metrics.js';
import { ensureClusterSecrets, ensureDataDir, privateStateFiles } from './data-dir.js';
import { loadOrCreateSecretKeys, rotateSecretKey } from './secret-keys.js';
import { joinDeps } from './join-setup.js';
import { keepSessionTicketKeys, SESSION_TICKET_SECONDS, sessionIdContext } from './session-tickets.js';
import { connectionCounts } from './connection-counts.js';
import { lockDataDir } from './data-dir-lock.js';
import { assertListenFree, assertPlainHttpAllowed, parseListen, urlOf } from './listen-address.js';
import { ensureClusterTls, issueCertificate, loadCertificateAuthority, type CertificateAuthority } from './tls.js';
import { LocalLeaderLease, runLeaderOnly, type LeaderLease, type LeaderLoop } from './leader-lease.js';

/**
 * Connections the kernel may hold for the server before it accepts them (the kernel caps it at
 * net.core.somaxconn, 4096 on current Linux; raise that for more nodes). Node's default is 511.
 * 5,000 agents reconnect at once after a restart: the host's ListenOverflows counter climbed in
 * runs with 511, and in one of two runs with 4096 (by 9,772). A client whose connection the
 * server never accepted waits out its timeout (docs/performance.md).
 */
export const LISTEN_BACKLOG = 8192;

/** Every long-running loop of the server listens to one stop signal: a fixed few dozen, not a leak. */
const LONG_RUNNING_LOOPS = 100;

export interface StartServerOptions {
  dataDir: string;
  /** host:port; port 0 picks a free one. */
  listen: string;
  logger: Logger;
  nodeGracePeriodMs?: number;
  /** --node-startup-grace: how long after the start a node not heard from yet may stay silent; default 60 s. */
  nodeStartupGraceMs?: number | undefined;
  /** --max-heartbeats-per-second: the heartbeat rate big clusters are paced to (runtime/heartbeat-pace.ts); default 500. */
  maxHeartbeatsPerSecond?: number | undefined;
  /** --auto-uid-range: uids for runAsUser auto; default 100000-165535. */
  autoUidRange?: { first: number; last: number } | undefined;
  /** --event-ttl, --max-events: what event GC keeps; default DEFAULT_EVENT_RETENTION. */
  eventRetention?: Partial<EventRetention> | undefined;
  /** Where the DNS server listens (UDP and TCP); none or empty: no DNS server. */
  dnsListen?: readonly DnsListenAddress[] | undefined;
  /** TTL of DNS answers in seconds; default 1. */
  dnsTtl?: number | undefined;
  /** The HAProxy load balancer for spec.expose; absent: none. */
  lb?: { address: string; httpPort?: number | undefined } | undefined;
  /** What /api/v1/version reports (the CLI passes its package version). */
  version?: string | undefined;
  /** Where the leader-only parts may run; default LocalLeaderLease (always this server). */
  leaderLease?: LeaderLease | undefined;
  /**
   * HTTPS with the cluster CA's server certificate (made at first start in <data dir>/tls), with
   * these extra names and addresses (`--tls-san`); the default. false: plain HTTP, which a
   * non-loopback listen address refuses unless `insecure` (then a warning at every start).
   */
  tls?: { sans?: readonly string[] | undefined } | false | undefined;
  insecure?: boolean | undefined;
  /**
   * Where the objects live: absent, the data dir's SQLite file (state.db); etcd: the cluster at
   * `endpoints`, shared by every server (docs/ha.md). The data dir still holds the CA, the secret
   * keyring and the admin token, which every server of one cluster must share.
   */
  etcd?: { endpoints: readonly string[]; tls?: { ca: string; cert: string; key: string } | undefined; prefix?: string | undefined } | undefined;
}

export interface RunningServer {
  /** https://... (or http:// without TLS); a wildcard listen address is given as loopback. */
  url: string;
  /** The cluster CA (certificate, key) and its fingerprint; undefined without TLS. */
  tls?: { ca: CertificateAuthority; caFingerprint: string } | undefined;
  adminToken: string;
  clusterId: string;
  /** Where the DNS server listens (real ports); empty when it is off. */
  dnsAddresses: readonly DnsListenAddress[];
  /** The load balancer: where it binds, or why it is off; undefined when not asked for. */
  lb?: { address: string; httpPort?: number | undefined; offReason?: string | undefined } | undefined;
  /**
   * A node credential for an agent in this process (gantry up), without a join token: the node
   * joined at `address` and `agentPort`; `endpointToken` is what the server presents to it.
   */
  joinLocalNode(node: { name: string; address: string; agentPort: number; labels?: Record<string, string> }): Promise<{ credential: string; endpointToken: string }>;
  /** The leader-only parts: whether they run, and a promise that they have stopped. */
  leader: Pick<LeaderLoop, 'leading' | 'idle'>;
  close(): Promise<void>;
}

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const { host, port } = parseListen(opts.listen);
  // Before anything is touched (store, HAProxy, containers): the address, then the data dir.
  if (opts.tls === false) assertPlainHttpAllowed(host, port, opts.insecure === true);
  await assertListenFree(opts.listen);
  await ensureDataDir(opts.dataDir);
  const lock = await lockDataDir(opts.dataDir);
  let secrets: Awaited<ReturnType<typeof ensureClusterSecrets>>;
  let store: SqliteStore | EtcdStore;
  // One registry for the whole server (GET /metrics): API, store writes, controllers, scheduler.
  const metrics = new ServerMetrics();
  let tls: { certPem: string; keyPem: string; caFingerprint: string; ca: CertificateAuthority; client: { certPem: string; keyPem: string } } | undefined;
  try {
    secrets = await ensureClusterSecrets(opts.dataDir);
    if (opts.tls !== false) {
      // The listen address itself is a name clients use (unless it is a wildcard).
      const listenSan = host === '0.0.0.0' || host === '::' ? [] : [host];
      const made = await ensureClusterTls(opts.dataDir, { sans: [...listenSan, ...(opts.tls?.sans ?? [])] });
      const ca = await loadCertificateAuthority(opts.dataDir);
      // The server's client certificate for agents' endpoints: made at each start, kept in memory.
      const client = await issueCertificate(ca, { commonName: 'gantry-server', usage: 'client' });
      tls = { ...made, ca, client };
    }
    // Secret data is sealed on disk with the data dir's keyring, apart from state.db (0600 too).
    const secretKeys = await loadOrCreateSecretKeys(opts.dataDir);
    if (opts.etcd) {
      store = instrumentStore(await openEtcdStore({ ...opts.etcd, secretBox: new SecretBox(secretKeys) }), metrics);
    } else {
      const statePath = join(opts.dataDir, 'state.db');
      await privateStateFiles(statePath);
      const sqlite = openSqliteStore(statePath, {
        secretBox: new SecretBox(secretKeys),
        onHistoryNotSaved: (e) =>
          opts.logger.warn({ err: e.message, path: statePath }, 'the watch history was not written at stop: the next start has none, and every agent and watch lists again once'),
        onStateFileNotRebuilt: (problem) =>
          opts.logger.warn({ problem, path: statePath }, 'Secrets were sealed again at start, but the state file was not rebuilt: old bytes (sealed with another key, or in clear) may stay in its free pages until a gantry secret-key rotate rebuilds it'),
        // WAL checkpoints in a worker thread, not in commits on the event loop (wal-checkpointer.ts).
        backgroundCheckpoints: true,
        onCheckpointProblem: (problem) => opts.logger.warn({ problem, path: statePath }, 'background WAL checkpoints stopped working; the server checkpoints in its commits again'),
      });
      metrics.countStoreQueue(() => ({ waiting: sqlite.waitingWrites, deferred: sqlite.deferredWrites }));
      store = instrumentStore(sqlite, metrics);
    }
  } catch (e) {
    await lock.release();
    throw e;
  }
  const logger = opts.logger;
  metrics.countCluster(() => clusterCounts(store));
  if (!tls) {
    if (opts.insecure) logger.warn({ listen: opts.listen }, 'TLS is off (--no-tls --insecure): the API and its bearer tokens travel in clear text; anyone on the network path can read and replay them');
    else logger.info({ listen: opts.listen }, 'TLS is off (--no-tls): plain HTTP on a loopback address');
  }
  // Two stops, for the shutdown order: the leader-only parts first, every-server loops later.
  const leaderStop = new AbortController();
  const serverStop = new AbortController();
  setMaxListeners(LONG_RUNNING_LOOPS, leaderStop.signal);
  setMaxListeners(LONG_RUNNING_LOOPS, serverStop.signal);
  let leader: LeaderLoop | undefined;
  // The service catalog (ready endpoints by service) feeds the endpoints API, DNS and HAProxy.
  const catalog = new Catalog({ store, logger: logger.child({ component: 'catalog' }) });
  const catalogDone = catalog.run(serverStop.signal);
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let joining: Awaited<ReturnType<typeof joinDeps>> | undefined;
  let stopTicketKeys = (): void => undefined;
  const dns = new DnsServer({ catalog, logger: logger.child({ component: 'dns' }), ttl: opts.dnsTtl });
  let lb: LoadBalancer | undefined;
  let lbDone: Promise<void> = Promise.resolve();
  let leasesDone: Promise<void> = Promise.resolve();
  let paceDone: Promise<void> = Promise.resolve();
  try {
    // One recorder for agents' events (API) and the controllers' own, so repeats aggregate.
    const events = new EventRecorder(store);
    // Heartbeats renew these in memory (the API) and the node controller reads them: a heartbeat
    // is a store write only when the node turns ready or its stored heartbeat is a minute old
    // (longer in a big cluster: api/heartbeats.ts persistIntervalOf).
    // On etcd they are shared by every server (etcd-node-leases.ts): heartbeats reach any of them.
    const leases = store instanceof EtcdStore ? new EtcdNodeLeases(store.etcd, store.clusterPrefix, logger.child({ component: 'node-leases' })) : new NodeLeases();
    const graceMs = opts.nodeGracePeriodMs ?? DEFAULT_CONTROLLER_OPTIONS.nodeGracePeriodMs;
    // Fresh: heard from within the silence the node controller tolerates, the grace period
    // stretched by a big cluster's slower heartbeats (heartbeat-pace.ts; by the leases' count).
    // The heartbeat rate the API paces agents by: this server's own; on etcd the leader's, which
    // its node controller's patience follows (etcd-heartbeat-pace.ts).
    const ownRate = opts.maxHeartbeatsPerSecond ?? MAX_HEARTBEATS_PER_SECOND;
    const pace = store instanceof EtcdStore ? new EtcdHeartbeatPace(store.etcd, store.clusterPrefix, ownRate, logger.child({ component: 'heartbeat-pace' })) : undefined;
    const heartbeatRate = pace ? pace.rate : () => ownRate;
    if (pace) paceDone = pace.run(serverStop.signal);
    metrics.countFreshLeases(() => leases.countRenewedSince(Date.now() - graceMs - heartbeatStretchMs(leases.size, heartbeatRate())));
    if (leases instanceof EtcdNodeLeases) leasesDone = leases.run(serverStop.signal).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'node leases stopped'));
    if (opts.lb) {
      lb = new LoadBalancer({ store, catalog, events, logger: logger.child({ component: 'lb' }), dataDir: opts.dataDir, address: opts.lb.address, httpPort: opts.lb.httpPort });
      lbDone = lb.run(serverStop.signal);
    }
    const audit = new AuditLog({ dir: join(opts.dataDir, 'audit') });
    // Joins: the cluster CA and per-node agent endpoint secrets (derived from a key of the data dir).
    joining = await joinDeps(opts.dataDir, secrets.endpointKey, tls?.ca);
    const apiDeps = { store, adminToken: secrets.adminToken, audit, metrics, rotateSecretKey: () => rotateSecretKey(opts.dataDir, store), https: tls && { cert: tls.certPem, key: tls.keyPem, sessionTimeoutSeconds: SESSION_TICKET_SECONDS, sessionIdContext: sessionIdContext(secrets.clusterId) }, agentTls: tls && { ca: tls.ca.certPem, cert: tls.client.certPem, key: tls.client.keyPem }, logger, version: opts.version ?? 'unknown', clusterId: secrets.clusterId, events, leases, heartbeatRate, catalog, loadBalancer: lb, join: joining, execTicketKey: createHmac('sha256', secrets.endpointKey).update('exec-tickets').digest(), consoleDir: consoleDir() };
    app = await buildApp(apiDeps);
    if (tls) stopTicketKeys = keepSessionTicketKeys(app.server as unknown as TlsServer, secrets.ticketKey);
    // On etcd the lease is elected among the servers, and the leader's writes are fenced with it.
    const lease = opts.leaderLease ?? (store instanceof EtcdStore ? new EtcdLeaderLease({ client: store.etcd, prefix: store.clusterPrefix, identity: `${hostname()}/${process.pid}/${opts.listen}`, logger: logger.child({ component: 'leader-lease' }) }) : new LocalLeaderLease());
    const leaderStore = (): Store => {
      const fence = lease instanceof EtcdLeaderLease ? lease.fence() : undefined;
      return fence && store instanceof EtcdStore ? instrumentStore(store.fenced(fence), metrics) : store;
    };
    const controllers = (signal: AbortSignal): Promise<void> =>
      startControllers({
        store: leaderStore(),
        events,
        leases,
        metrics,
        logger,
        signal,
        options: { ...(opts.nodeGracePeriodMs !== undefined ? { nodeGracePeriodMs: opts.nodeGracePeriodMs } : {}), ...(opts.nodeStartupGraceMs !== undefined ? { nodeStartupGraceMs: opts.nodeStartupGraceMs } : {}), ...(opts.maxHeartbeatsPerSecond !== undefined ? { maxHeartbeatsPerSecond: opts.maxHeartbeatsPerSecond } : {}), ...(opts.autoUidRange ? { autoUidRange: opts.autoUidRange } : {}), ...(opts.eventRetention ? { eventRetention: opts.eventRetention } : {}) },
      }).done;
    // On etcd the leader writes its heartbeat rate for every server to pace agents by.
    const publishPace = async (signal: AbortSignal): Promise<void> => {
      if (!pace) return untilAborted(signal);
      for (let delayMs = 500; !signal.aborted; delayMs = Math.min(delayMs * 2, 10_000)) {
        try {
          const fence = lease instanceof EtcdLeaderLease ? lease.fence() : undefined;
          // An etcd lease without a fence is one just lost: nothing to write (the signal ends this part).
          if (lease instanceof EtcdLeaderLease && !fence) break;
          await pace.publish(fence);
          break;
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'could not publish the heartbeat pace; retrying');
          await sleep(delayMs, signal).catch(() => undefined);
        }
      }
      return untilAborted(signal);
    };
    leader = runLeaderOnly(lease, [controllers, publishPace], leaderStop.signal, logger.child({ component: 'leader' }));
    await app.listen({ host, port, backlog: LISTEN_BACKLOG });
    if (opts.dnsListen && opts.dnsListen.length > 0) {
      // Before the catalog has read the store, every name would be NXDOMAIN (and cached as such).
      await catalog.synced;
      try {
        await dns.listen(opts.dnsListen);
      } catch (e) {
        const where = opts.dnsListen.map((a) => `${a.host}:${a.port}`).join(',');
        throw new UnavailableError(`the DNS server cannot listen on ${where}: ${(e as Error).message}; pass another --dns-listen, or --dns-listen off`);
      }
    }
  } catch (e) {
    stopTicketKeys();
    await dns.close();
    leaderStop.abort();
    await leader?.done.catch(() => undefined);
    await app?.close().catch(() => undefined);
    serverStop.abort();
    await lbDone.catch(() => undefined);
    await leasesDone.catch(() => undefined);
    await paceDone.catch(() => undefined);
    await catalogDone.catch(() => undefined);
    await store.close();
    await lock.release();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UnavailableError(`${opts.listen} is already in use (EADDRINUSE): is another Gantry running? Stop it, or pass --listen with a free port`);
    }
    throw e;
  }
  const bound = app.server.address() as AddressInfo;
  const url = urlOf(host, bound.port, tls ? 'https' : 'http');
  logger.info({ url, dataDir: opts.dataDir, clusterId: secrets.clusterId, ...(tls ? { caFingerprint: tls.caFingerprint } : {}) }, 'gantry server listening');
  // Event-loop delay once per 10 s in the log (warn above 100 ms): what a stall cost, and when;
  // with the connections and TLS handshakes of the window (a reconnect storm shows as thousands).
  const conns = connectionCounts(app.server as unknown as TlsServer, tls !== undefined);
  const loop = new LoopMonitor({ logger: logger.child({ component: 'loop' }), counts: conns });
  const running = app;
  const leading = leader;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // 1. Stop accepting: no new DNS queries, no new API connections (open ones go on for now).
      await dns.close();
      running.server.close();
      stopTicketKeys();
      // 2. Stop the leader-only parts (they finish the step in hand) and give the lease up.
      leaderStop.abort();
      await leading.done;
      // 3. Drain: end watches and open requests, then the every-server loops.
      await running.close();
      serverStop.abort();
      await lbDone;
      await catalogDone;
      await leasesDone;
      await paceDone;
      // 4. Close the store (SQLite writes its watch history now); the data directory is free for the next server.
      const storeStart = performance.now();
      await store.close();
      const storeCloseMs = Math.round(performance.now() - storeStart);
      await lock.release();
      loop.close();
      logger.info({ url, storeCloseMs }, 'gantry server stopped');
    })();
    return closing;
  };
  const lbInfo = opts.lb && { ...opts.lb, offReason: lb?.offReason };
  const leaderView = {
    get leading() {
      return leading.leading;
    },
    idle: () => leading.idle(),
  };
  const joined = joining;
  if (!joined) throw new Error('the server started without its cluster CA');
  const joinLocalNode = async (node: { name: string; address: string; agentPort: number; labels?: Record<string, string> }) => ({
    credential: await running.issueNodeCredential(node),
    endpointToken: joined.endpointToken(node.name),
  });
  const tlsInfo = tls && { ca: tls.ca, caFingerprint: tls.caFingerprint };
  return { url, tls: tlsInfo, adminToken: secrets.adminToken, clusterId: secrets.clusterId, dnsAddresses: [...dns.addresses], lb: lbInfo, leader: leaderView, joinLocalNode, close };
}

/**
 * The built console: web/dist at the repository's root. Every file of the server, in src/server,
 * dist/server or the CLI bundle's dist/cli-bundle, sits two levels below it.
 */
function consoleDir(): string {
  return fileURLToPath(new URL('../../web/dist/', import.meta.url));
}
