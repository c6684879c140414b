// The agent's own HTTP endpoint (docs/api.md, "The agent's own endpoint"): the server proxies
// container logs from here. Only containers this node owns, only with the agent token.
import type { Logger } from 'pino';
import { AGENT_ROUTES, MalformedError, NotFoundError, pathPattern } from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';
import { ExecEndpoint, type ExecEndpointOptions } from './exec-endpoint.js';
import { LogEndpoint, type EndpointTls, type LogSource } from './log-endpoint.js';
import type { StatsSampler } from './stats-sampler.js';

export { parseListen, SERVER_CLIENT_NAME, type EndpointTls } from './log-endpoint.js';

export interface AgentServerOptions {
  /** This agent's node: the server's log proxy names it in the path, and no other is served. */
  nodeName: string;
  driver: Driver;
  token: string;
  /** HTTPS, and only the server's client certificate gets in (EndpointTls). */
  tls?: EndpointTls | undefined;
  /** Whether this node's agent owns the container (it never serves others). */
  owns: (containerId: string) => boolean;
  /** Lines the agent keeps itself (warm runs); see LogSource.kept. */
  kept?: LogSource['kept'];
  logger: Logger;
  /** `host[:port]`; default 127.0.0.1:0 (a free port). */
  listen?: string | undefined;
  /** Host to put in `url` when listening on a wildcard address. */
  advertiseHost?: string | undefined;
  /** Live stats of this node's containers: served at /nodes/NODE/v1/stats and /metrics. */
  stats?: StatsSampler | undefined;
  /** Exec sessions (flags --exec-max-sessions, --exec-idle-timeout); absent: the defaults. */
  exec?: Pick<ExecEndpointOptions, 'maxSessions' | 'idleTimeoutMs' | 'pingIntervalMs'> | undefined;
}

// The path comes from the route registry (core/api/routes.ts).
const LOG_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.containerLog)}$`);
const NODE_LOG_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.nodeContainerLog)}$`);
const STATS_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.nodeStats)}$`);
const METRICS_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.nodeMetrics)}$`);

/** The longest a stats request may wait for the next round (?wait=MS). */
const MAX_STATS_WAIT_MS = 30_000;

/**
 * GET /nodes/NODE/v1/stats and /metrics; undefined for other paths. With `wait=MS` and `since`,
 * a stats request with no sample at or after `since` waits (up to MS) for the next sampling round:
 * the long poll the server's stats stream rides on.
 */
async function serveStats(nodeName: string, stats: StatsSampler | undefined, url: URL): Promise<{ type: string; body: string } | undefined> {
  const m = STATS_PATH.exec(url.pathname) ?? METRICS_PATH.exec(url.pathname);
  if (!m?.[1]) return undefined;
  const node = decodeName(m[1]);
  if (node !== nodeName) throw new NotFoundError('Node', undefined, node ?? m[1], `node ${node ?? m[1]} is not here: this agent serves node ${nodeName}`);
  if (METRICS_PATH.test(url.pathname)) return { type: 'text/plain; version=0.0.4; charset=utf-8', body: stats?.metricsText() ?? '' };
  const sinceText = url.searchParams.get('since');
  const since = sinceText === null ? undefined : Date.parse(sinceText);
  if (since !== undefined && Number.isNaN(since)) throw new MalformedError('since must be an ISO time like 2026-12-05T08:00:00Z');
  const waitText = url.searchParams.get('wait');
  const wait = waitText === null ? 0 : Number(waitText);
  if (!Number.isInteger(wait) || wait < 0) throw new MalformedError('wait must be a whole number of milliseconds, like 25000');
  const filter = { namespace: url.searchParams.get('namespace') ?? undefined, instance: url.searchParams.get('instance') ?? undefined, since };
  let items = stats?.list(filter) ?? [];
  if (stats && wait > 0 && since !== undefined && items.every((s) => s.samples.length === 0)) {
    await stats.nextRound(Math.min(wait, MAX_STATS_WAIT_MS));
    items = stats.list(filter);
  }
  return { type: 'application/json', body: JSON.stringify({ node: nodeName, items }) };
}

function decodeName(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export class AgentServer {
  private readonly endpoint: LogEndpoint;
  readonly exec: ExecEndpoint;

  constructor(opts: AgentServerOptions) {
    const source: LogSource = { driver: opts.driver, owns: opts.owns, kept: opts.kept };
    this.endpoint = new LogEndpoint({
      token: opts.token,
      tls: opts.tls,
      logger: opts.logger,
      listen: opts.listen,
      advertiseHost: opts.advertiseHost,
      usage: '/v1/containers/<id>/log',
      extra: (url) => serveStats(opts.nodeName, opts.stats, url),
      route: (pathname) => {
        const byNode = NODE_LOG_PATH.exec(pathname);
        if (byNode?.[1] && byNode[2]) {
          // A request meant for another node (the server's idea of addresses is off) gets a 404, not our logs.
          const node = decodeName(byNode[1]);
          return { containerId: byNode[2], source: node === opts.nodeName ? source : undefined, where: `node ${node ?? byNode[1]} here: this agent serves node ${opts.nodeName}` };
        }
        const id = LOG_PATH.exec(pathname)?.[1];
        return id === undefined ? undefined : { containerId: id, source, where: 'this node' };
      },
    });
    this.exec = new ExecEndpoint({ nodeName: opts.nodeName, driver: opts.driver, owns: opts.owns, logger: opts.logger.child({ component: 'exec' }), ...opts.exec });
    this.endpoint.onUpgrade((req, socket, head) => this.exec.handleUpgrade(req, socket, head));
  }

  /** Listens; resolves once the port is known. */
  listen(): Promise<void> {
    return this.endpoint.listen();
  }

  /** The agent URL for `status.agentUrl`; set once listening. */
  get url(): string {
    return this.endpoint.url;
  }

  close(): Promise<void> {
    this.exec.close();
    return this.endpoint.close();
  }
}
