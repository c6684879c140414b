// One log endpoint for many agents in one process (the hollow nodes of `gantry sim`). An agent's
// own AgentServer costs a listening socket; 10,000 of them do not fit under a 20,000 open-file
// limit next to the agents' watch connections. Here every node attaches its driver and gets an
// agent URL with its name in the path, `<url>/nodes/<node>`, so the server's log proxy (which
// appends `/v1/containers/<id>/log` to the agent URL) reaches the right driver unchanged. Each node
// brings its own endpoint secret (from its join): a request for node A's path must carry A's.
import type { Logger } from 'pino';
import { AGENT_ROUTES, ConflictError, pathPattern } from '../../core/index.js';
import { LogEndpoint, type LogRoute, type LogSource } from './log-endpoint.js';

/** A log server an Agent attaches to instead of listening itself (AgentOptions.logServer). */
export interface AgentLogServer {
  /**
   * Serves `nodeName`'s containers from `source` until detach(), to callers that present `token`
   * (the node's endpoint secret); `url` is the node's agent URL.
   */
  attach(nodeName: string, source: LogSource, token: string): { url: string; detach(): void };
}

export interface SharedLogServerOptions {
  logger: Logger;
  /** `host[:port]`; default 127.0.0.1:0 (a free port). */
  listen?: string | undefined;
}

// The agent's log route of the registry (core/api/routes.ts), bare or behind /nodes/<node>.
const NODE_LOG_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.nodeContainerLog)}$`);
const LOG_PATH = new RegExp(`^${pathPattern(AGENT_ROUTES.containerLog)}$`);

function decodeName(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export class SharedLogServer implements AgentLogServer {
  private readonly endpoint: LogEndpoint;
  private readonly sources = new Map<string, LogSource>();
  private readonly tokens = new Map<string, string>();

  constructor(opts: SharedLogServerOptions) {
    this.endpoint = new LogEndpoint({
      // The secret of the node the path names; a path naming no attached node has none (401).
      token: (pathname) => {
        const node = NODE_LOG_PATH.exec(pathname)?.[1];
        const name = node === undefined ? undefined : decodeName(node);
        return name === undefined ? undefined : this.tokens.get(name);
      },
      logger: opts.logger,
      listen: opts.listen,
      usage: '/nodes/<node>/v1/containers/<id>/log',
      route: (pathname) => this.route(pathname),
    });
  }

  listen(): Promise<void> {
    return this.endpoint.listen();
  }

  /** The base URL; each node's agent URL is `<url>/nodes/<node>`. */
  get url(): string {
    return this.endpoint.url;
  }

  get attached(): number {
    return this.sources.size;
  }

  attach(nodeName: string, source: LogSource, token: string): { url: string; detach(): void } {
    if (this.sources.has(nodeName)) {
      throw new ConflictError(`node ${nodeName} is already attached to this log server: give every agent its own node name`);
    }
    const url = `${this.endpoint.url}/nodes/${encodeURIComponent(nodeName)}`;
    this.sources.set(nodeName, source);
    this.tokens.set(nodeName, token);
    return {
      url,
      detach: () => {
        if (this.sources.get(nodeName) !== source) return;
        this.sources.delete(nodeName);
        this.tokens.delete(nodeName);
      },
    };
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  private route(pathname: string): LogRoute | undefined {
    const byNode = NODE_LOG_PATH.exec(pathname);
    if (byNode?.[1] && byNode[2]) {
      const node = decodeName(byNode[1]);
      return { containerId: byNode[2], source: node === undefined ? undefined : this.sources.get(node), where: `node ${node ?? byNode[1]}` };
    }
    // Without a node in the path no node's secret applies: such a request is refused before it gets here.
    const id = LOG_PATH.exec(pathname)?.[1];
    if (id === undefined) return undefined;
    return { containerId: id, source: undefined, where: 'a path without a node (use /nodes/<node>/v1/containers/<id>/log)' };
  }
}
