// Composition root of the control plane: the only place that builds the store, the API and the
// controllers and wires them together. Used by `gantry server` and `gantry up`.
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from '../api/app.js';
import type { Role } from '../api/auth.js';
import { EventRecorder } from '../runtime/event-recorder.js';
import { startControllers } from '../controllers/index.js';
import { NodeLeases } from '../runtime/node-leases.js';
import { AppError } from '../core/index.js';
import { Catalog } from '../discovery/catalog.js';
import { LONG_RUNNING_LOOPS } from './signals.js';
import { DnsServer, type DnsListenAddress } from '../discovery/dns-server.js';
import { LoadBalancer } from '../discovery/haproxy/load-balancer.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { ensureClusterSecrets, ensureDataDir } from './data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import { assertListenFree, parseListen, urlOf } from './listen-address.js';
import { packageVersion } from './version-info.js';

export interface StartServerOptions {
  dataDir: string;
  /** host:port; port 0 picks a free one. */
  listen: string;
  logger: Logger;
  nodeGracePeriodMs?: number;
  /** Where the DNS server listens (UDP and TCP); none or empty: no DNS server. */
  dnsListen?: readonly DnsListenAddress[] | undefined;
  /** TTL of DNS answers in seconds; default 1. */
  dnsTtl?: number | undefined;
  /** The HAProxy load balancer for spec.expose; absent: none. */
  lb?: { address: string; httpPort?: number | undefined } | undefined;
}

export interface RunningServer {
  url: string;
  adminToken: string;
  agentToken: string;
  clusterId: string;
  /** Where the DNS server listens (real ports); empty when it is off. */
  dnsAddresses: readonly DnsListenAddress[];
  /** The load balancer: where it binds, or why it is off; undefined when not asked for. */
  lb?: { address: string; httpPort?: number | undefined; offReason?: string | undefined } | undefined;
  close(): Promise<void>;
}

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const { host, port } = parseListen(opts.listen);
  // Before anything is touched (store, HAProxy, containers): the address, then the data dir.
  await assertListenFree(opts.listen);
  await ensureDataDir(opts.dataDir);
  const lock = await lockDataDir(opts.dataDir);
  let secrets: Awaited<ReturnType<typeof ensureClusterSecrets>>;
  let store: ReturnType<typeof openSqliteStore>;
  try {
    secrets = await ensureClusterSecrets(opts.dataDir);
    store = openSqliteStore(join(opts.dataDir, 'state.db'));
  } catch (e) {
    await lock.release();
    throw e;
  }
  const logger = opts.logger;
  const controllerStop = new AbortController();
  // Every long-running loop (controllers, informers, catalog, load balancer) listens to this one
  // signal: a fixed set of a few dozen, not a leak, so Node's default warning at 10 is lifted.
  setMaxListeners(LONG_RUNNING_LOOPS, controllerStop.signal);
  let controllers: { done: Promise<void> } | undefined;
  // The service catalog (ready endpoints by service) feeds the endpoints API, DNS and HAProxy.
  const catalog = new Catalog({ store, logger: logger.child({ component: 'catalog' }) });
  const catalogDone = catalog.run(controllerStop.signal);
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  const dns = new DnsServer({ catalog, logger: logger.child({ component: 'dns' }), ttl: opts.dnsTtl });
  let lb: LoadBalancer | undefined;
  let lbDone: Promise<void> = Promise.resolve();
  try {
    const tokens = new Map<string, Role>([
      [secrets.adminToken, 'admin'],
      [secrets.agentToken, 'agent'],
    ]);
    // One recorder for agents' events (API) and the controllers' own, so repeats aggregate.
    const events = new EventRecorder(store);
    // Heartbeats renew these in memory (the API) and the node controller reads them: a heartbeat
    // is a store write only when the node turns ready or its stored heartbeat is a minute old.
    const leases = new NodeLeases();
    if (opts.lb) {
      lb = new LoadBalancer({ store, catalog, events, logger: logger.child({ component: 'lb' }), dataDir: opts.dataDir, address: opts.lb.address, httpPort: opts.lb.httpPort });
      lbDone = lb.run(controllerStop.signal);
    }
    const apiDeps = { store, tokens, logger, version: packageVersion(), clusterId: secrets.clusterId, agentToken: secrets.agentToken, events, leases, catalog, loadBalancer: lb };
    app = await buildApp(apiDeps);
    controllers = startControllers({
      store,
      events,
      leases,
      logger,
      signal: controllerStop.signal,
      ...(opts.nodeGracePeriodMs !== undefined ? { options: { nodeGracePeriodMs: opts.nodeGracePeriodMs } } : {}),
    });
    await app.listen({ host, port });
    if (opts.dnsListen && opts.dnsListen.length > 0) {
      // Before the catalog has read the store, every name would be NXDOMAIN (and cached as such).
      await catalog.synced;
      try {
        await dns.listen(opts.dnsListen);
      } catch (e) {
        const where = opts.dnsListen.map((a) => `${a.host}:${a.port}`).join(',');
        throw new AppError('UNAVAILABLE', `the DNS server cannot listen on ${where}: ${(e as Error).message}; pass another --dns-listen, or --dns-listen off`);
      }
    }
  } catch (e) {
    await dns.close();
    controllerStop.abort();
    await controllers?.done.catch(() => undefined);
    await lbDone.catch(() => undefined);
    await catalogDone.catch(() => undefined);
    await app?.close().catch(() => undefined);
    await store.close();
    await lock.release();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AppError('UNAVAILABLE', `${opts.listen} is already in use (EADDRINUSE): is another Gantry running? Stop it, or pass --listen with a free port`);
    }
    throw e;
  }
  const bound = app.server.address() as AddressInfo;
  const url = urlOf(host, bound.port);
  logger.info({ url, dataDir: opts.dataDir, clusterId: secrets.clusterId }, 'gantry server listening');
  const running = app;
  const started = controllers;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await dns.close();
      controllerStop.abort();
      await started.done;
      await lbDone;
      await catalogDone;
      await running.close();
      await store.close();
      await lock.release();
      logger.info({ url }, 'gantry server stopped');
    })();
    return closing;
  };
  const lbInfo = opts.lb && { ...opts.lb, offReason: lb?.offReason };
  return { url, ...secrets, dnsAddresses: [...dns.addresses], lb: lbInfo, close };
}
