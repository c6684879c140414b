// The HTTP machinery behind the agent's log endpoint (docs/api.md, "The agent's own endpoint"):
// listening, the agent token, URL parsing and streaming a driver's log. Which containers it
// serves is its owner's business (`route`): one agent's own (AgentServer), or those of every
// hollow node of `gantry sim` behind one socket (SharedLogServer).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import {
  type AppError,
  describeError,
  isAppError,
  InternalError,
  InvalidError,
  MalformedError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';
import { refuseUpgrade } from './exec-endpoint.js';

/** Where one node's container logs come from, and which containers are that node's to serve. */
export interface LogSource {
  driver: Driver;
  owns: (containerId: string) => boolean;
  /** Lines kept by the agent itself for an id (a warm run's output, `run.<uid>`); undefined: ask the driver. */
  kept?: ((id: string, tail: number | undefined) => string[] | undefined) | undefined;
}

/** What a path asks for: a container id and the node whose containers may answer it. */
export interface LogRoute {
  containerId: string;
  /** The node to serve from; undefined when the path names no node this server serves. */
  source: LogSource | undefined;
  /** Names the node in a 404, e.g. `this node` or `node hollow-0042`. */
  where: string;
}

/**
 * TLS for the endpoint: its serving certificate and key (issued by the cluster CA for this node's
 * address), and the CA whose client certificates it accepts. With TLS the caller must present a
 * client certificate from that CA with `clientName` as its common name: the API server, which is
 * then the endpoint's only client; the agent token is not asked for.
 */
export interface EndpointTls {
  cert: string;
  key: string;
  ca: string;
  /** The common name of the only client certificate accepted; default `gantry-server`. */
  clientName?: string | undefined;
}

/** The common name of the client certificate the API server presents to agents. */
export const SERVER_CLIENT_NAME = 'gantry-server';

export interface LogEndpointOptions {
  /**
   * Without TLS, callers send it as a bearer token: one for the endpoint, or the one a request
   * path asks for (each hollow node behind a shared endpoint has its own; undefined: none fits).
   */
  token: string | ((pathname: string) => string | undefined);
  tls?: EndpointTls | undefined;
  logger: Logger;
  /** Parses a path; undefined when it is no log path at all (404 "no route"). */
  route: (pathname: string) => LogRoute | undefined;
  /** Other GET routes (stats, metrics): an answer, or undefined when the path is not theirs. */
  extra?: ((url: URL) => { type: string; body: string } | undefined | Promise<{ type: string; body: string } | undefined>) | undefined;
  /** The path shown in the 400 for a request line that is not a URL. */
  usage: string;
  /** `host[:port]`; default 127.0.0.1:0 (a free port). */
  listen?: string | undefined;
  /** Host to put in `url` when listening on a wildcard address. */
  advertiseHost?: string | undefined;
}

export function parseListen(listen: string | undefined): { host: string; port: number } {
  const text = listen?.trim() || '127.0.0.1:0';
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!m?.[1]) throw new InvalidError(`agent listen address "${text}" must be host[:port], e.g. 127.0.0.1:7071`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 0) };
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class LogEndpoint {
  private readonly server: Server;
  private readonly tokenDigest: Buffer | undefined;
  private urlText: string | undefined;

  constructor(private readonly opts: LogEndpointOptions) {
    this.tokenDigest = typeof opts.token === 'string' ? digest(opts.token) : undefined;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      // A request must never take the process down (in `gantry up` that is the whole control plane).
      this.handle(req, res).catch((e: unknown) => {
        this.opts.logger.warn({ method: req.method, err: describeError(e) }, 'agent request failed');
        if (!res.headersSent) this.fail(res, new MalformedError('the request could not be handled; check its path and query'));
        else res.destroy();
      });
    };
    // requestCert + rejectUnauthorized: a caller without a certificate from the cluster CA is cut off
    // in the handshake, before any byte of HTTP is read.
    this.server = opts.tls
      ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true }, handler)
      : createServer(handler);
  }

  /**
   * Takes WebSocket upgrades (exec sessions): only an authorized caller's reach `handler`; anyone
   * else gets a 401 before a byte of the upgrade is read.
   */
  onUpgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      if (!this.authorized(req)) return refuseUpgrade(socket, 401, 'this endpoint answers the Gantry server only');
      handler(req, socket, head);
    });
  }

  /** Listens; resolves once the port is known. */
  async listen(): Promise<void> {
    const { host, port } = parseListen(this.opts.listen);
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void =>
        reject(new UnavailableError(`agent cannot listen on ${host}:${port} (${e.message}): choose another --agent-listen host[:port]`));
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    const wildcard = host === '0.0.0.0' || host === '::';
    const shown = wildcard ? (this.opts.advertiseHost ?? '127.0.0.1') : host;
    this.urlText = `${this.opts.tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${addr.port}`;
  }

  /** The base URL; set once listening. */
  get url(): string {
    if (!this.urlText) throw new InternalError('agent server is not listening yet: call listen() first');
    return this.urlText;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    // Following log streams never end by themselves.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.opts.tls) {
      // The handshake checked the chain; the name says it is the server's, not another holder of a
      // certificate from the same CA (agents' serving certificates are not for clients either).
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      return peer?.subject?.CN === (this.opts.tls.clientName ?? SERVER_CLIENT_NAME);
    }
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (given.length === 0) return false;
    let expected = this.tokenDigest;
    if (typeof this.opts.token === 'function') {
      // Only the path is read (no query, nothing parsed on the caller's behalf) to find whose secret applies.
      const wanted = this.opts.token((req.url ?? '/').split('?')[0] ?? '/');
      expected = wanted === undefined ? undefined : digest(wanted);
    }
    // Equal-length digests, so the comparison time says nothing about the token.
    return expected !== undefined && timingSafeEqual(digest(given), expected);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The token first: an unauthenticated caller gets nothing parsed on its behalf.
    if (!this.authorized(req)) {
      const need = this.opts.tls ? `a client certificate of ${this.opts.tls.clientName ?? SERVER_CLIENT_NAME} from the cluster CA` : 'send "Authorization: Bearer <the node\'s endpoint secret>"';
      return this.fail(res, new UnauthorizedError(`this endpoint answers the Gantry server only: ${need}`));
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent');
    } catch {
      return this.fail(res, new MalformedError(`the request path is not a valid URL path: use ${this.opts.usage}`));
    }
    const route = this.opts.route(url.pathname);
    if (!route) {
      let answer: { type: string; body: string } | undefined;
      try {
        answer = req.method === 'GET' ? await this.opts.extra?.(url) : undefined;
      } catch (e) {
        return this.fail(res, isAppError(e) ? e : new MalformedError(describeError(e)));
      }
      if (answer) {
        res.writeHead(200, { 'content-type': answer.type, 'cache-control': 'no-store' });
        res.end(answer.body);
        return;
      }
      return this.fail(res, new NotFoundError('route', undefined, url.pathname, `no route ${req.method ?? ''} ${url.pathname}`));
    }
    if (req.method !== 'GET') return this.fail(res, new MalformedError(`use GET for ${url.pathname}`));
    const { containerId: id, source } = route;
    if (!source?.owns(id)) return this.fail(res, new NotFoundError('container', undefined, id, `container "${id}" does not belong to ${route.where}`));
    const follow = ['1', 'true'].includes(url.searchParams.get('follow') ?? '');
    const tailText = url.searchParams.get('tail');
    const tail = tailText === null ? undefined : Number(tailText);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) return this.fail(res, new MalformedError('tail must be a whole number of lines'));
    const timestamps = ['1', 'true'].includes(url.searchParams.get('timestamps') ?? '');
    const until = url.searchParams.get('until') ?? undefined;
    if (until !== undefined && Number.isNaN(Date.parse(until))) return this.fail(res, new MalformedError('until must be an ISO time like 2026-12-05T08:00:00Z'));

    const abort = new AbortController();
    res.on('close', () => abort.abort());
    // Headers go out at once: a following client should not wait for the first line to know it is connected.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.flushHeaders();
    try {
      const kept = source.kept?.(id, tail);
      for await (const line of kept ?? source.driver.logs(id, { follow, tail, timestamps, until, signal: abort.signal })) {
        res.write(line.endsWith('\n') ? line : `${line}\n`);
      }
      res.end();
    } catch (e) {
      if (abort.signal.aborted) return;
      this.opts.logger.warn({ id, err: describeError(e) }, 'log stream failed');
      // The status line is gone already: cut the stream so the reader sees it did not end cleanly.
      res.destroy();
    }
  }

  private fail(res: ServerResponse, e: AppError): void {
    res.writeHead(e.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(e.toBody()));
  }
}
