// Exec sessions through the server (docs/operate.md). POST .../instances/NAME/exec (role edit)
// checks the instance and container and answers a signed single-use ticket; GET on the same path
// is the WebSocket upgrade that redeems it (a browser cannot send a token on a WebSocket, so the
// ticket is the credential) and relays frames, unchanged, to and from the agent of the instance's
// node: over its HTTPS endpoint with the server's client certificate, at the address and port the
// node joined with (never a URL the agent reported). The session is one line in the audit log. A
// session that ends without the agent's status frame says why (agent-lost, instance-gone).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import WebSocket, { type RawData } from 'ws';
import {
  AGENT_ROUTES,
  encodeExecFrame,
  fillPath,
  InvalidError,
  NotFoundError,
  ROUTES,
  schemaErrors,
  UnauthorizedError,
  UnavailableError,
  ExecRequestSchema,
  type ExecRequest,
  type ExecStatus,
  type GantryNode,
} from '../core/index.js';
import type { AuditLog } from './audit-log.js';
import { auditEntryOf, who } from './audit-hook.js';
import type { ExecTickets, ExecClaims } from './exec-ticket.js';
import { refusalMessage } from '../runtime/ws-refusal.js';
import { containerIdFor } from './log-proxy.js';
import type { Params, RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

export interface ExecRouteOptions {
  tickets: ExecTickets;
  audit?: AuditLog | undefined;
  /** Pings to the client this often (a quiet shell is not cut by proxies); default 20 s. */
  pingIntervalMs?: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the exec route's preValidation once its ticket was redeemed. */
    execClaims?: ExecClaims;
  }
}

function parseExecBody(body: unknown): ExecRequest {
  const errors = schemaErrors(ExecRequestSchema, body ?? {}, '');
  if (errors.length > 0) throw new InvalidError('exec takes { "command": ["sh"], "container"?: "main", "tty"?: true, "stdin"?: true }', errors);
  return body as ExecRequest;
}

/** Where the server opens a node's exec endpoint for a container (the node's joined address and port). */
export function agentExecUrl(node: GantryNode, containerId: string, claims: Pick<ExecClaims, 'command' | 'tty'>, size: { cols?: number | undefined; rows?: number | undefined }): URL | undefined {
  const { address, agentPort } = node.spec;
  if (!address || agentPort === undefined) return undefined;
  const host = address.includes(':') ? `[${address}]` : address;
  const scheme = node.status?.agentUrl?.startsWith('https://') ? 'wss' : 'ws';
  const url = new URL(`${scheme}://${host}:${agentPort}${fillPath(AGENT_ROUTES.nodeContainerExec, { node: node.metadata.name, id: containerId })}`);
  for (const word of claims.command) url.searchParams.append('command', word);
  if (claims.tty) url.searchParams.set('tty', '1');
  url.searchParams.set('stdin', '1');
  if (size.cols && size.rows) {
    url.searchParams.set('cols', String(size.cols));
    url.searchParams.set('rows', String(size.rows));
  }
  return url;
}

async function placedContainer(deps: RouteDeps, namespace: string, name: string, container: string | undefined): Promise<{ node: GantryNode; containerId: string; container: string }> {
  const inst = await deps.store.get('Instance', namespace, name);
  if (!inst) throw new NotFoundError('Instance', namespace, name, `instance ${namespace}/${name} not found; see gantry get instances -n ${namespace}`);
  if (inst.spec.runIn === 'warm') throw new InvalidError(`instance ${name} runs in a shared warm container: exec into it is not offered (it would reach other runs)`, [{ path: 'instance', message: 'a warm run' }]);
  const picked = containerIdFor(inst, container);
  const nodeName = inst.spec.node ?? inst.status?.node;
  if (!nodeName) throw new NotFoundError('Node', undefined, undefined, `instance ${name} is not placed on a node yet; see gantry describe instance ${name}`);
  const node = await deps.store.get('Node', undefined, nodeName);
  if (!node) throw new NotFoundError('Node', undefined, nodeName, `instance ${name} is on node ${nodeName}, which is gone`);
  if (!node.spec.address || node.spec.agentPort === undefined) throw new UnavailableError(`node ${nodeName} has no agent endpoint: its agent runs without one; exec needs it`);
  return { node, ...picked };
}

const positive = (text: unknown): number | undefined => (typeof text === 'string' && /^[0-9]{1,5}$/.test(text) && Number(text) > 0 && Number(text) <= 65535 ? Number(text) : undefined);

export function registerExecRoutes(app: FastifyInstance, deps: RouteDeps, opts: ExecRouteOptions): void {
  serve(app, ROUTES.execTicket, async (req, reply) => {
    const body = parseExecBody(req.body);
    const namespace = req.params.namespace ?? '';
    const name = req.params.name ?? '';
    // Checked now, so a typo is a clear 404 here rather than a closed WebSocket later.
    const { container } = await placedContainer(deps, namespace, name, body.container);
    const claims: ExecClaims = { subject: who(req.principal).user, namespace, instance: name, container, command: body.command, tty: body.tty ?? false };
    const issued = opts.tickets.issue(claims);
    return reply.code(200).send({ ...issued, path: `${ROUTES.execSession.path.replace(':namespace', encodeURIComponent(namespace)).replace(':name', encodeURIComponent(name))}` });
  });

  type SessionRequest = FastifyRequest<{ Params: Params; Querystring: Record<string, unknown> }>;
  const preValidation = async (req: SessionRequest): Promise<void> => {
    // Before the upgrade: a missing, forged, expired or spent ticket is a plain 401.
    const ticket = req.query.ticket;
    if (typeof ticket !== 'string' || ticket.length === 0) throw new UnauthorizedError('exec needs ?ticket= from POST .../exec (a token is not accepted here)');
    const claims = opts.tickets.redeem(ticket);
    if (claims.namespace !== req.params.namespace || claims.instance !== req.params.name) throw new UnauthorizedError('this exec ticket is for another instance');
    req.execClaims = claims;
  };
  app.route({
    method: 'GET',
    url: ROUTES.execSession.path,
    config: { access: ROUTES.execSession.access, routeId: ROUTES.execSession.id },
    preValidation,
    // A plain GET (no upgrade) gets here.
    handler: async () => {
      throw new InvalidError('this path is a WebSocket: open it with an Upgrade request (gantry exec does)', [{ path: 'upgrade', message: 'required' }]);
    },
    wsHandler: (socket: WebSocket, req: SessionRequest) => {
      void relay(deps, opts, socket, req);
    },
  } as never);
}

async function relay(deps: RouteDeps, opts: ExecRouteOptions, client: WebSocket, req: FastifyRequest<{ Params: Params; Querystring: Record<string, unknown> }>): Promise<void> {
  const claims = req.execClaims;
  if (!claims) return client.close(1011, 'no claims');
  const log = deps.logger.child({ component: 'exec', namespace: claims.namespace, instance: claims.instance });
  let done = false;
  const end = (status: ExecStatus): void => {
    if (done) return;
    done = true;
    if (client.readyState === client.OPEN) {
      client.send(encodeExecFrame({ channel: 3, status }), { binary: true });
      client.close(1000, status.reason);
    }
  };
  const queued: RawData[] = [];
  // The agent's side, once opened (client frames wait in `queued` until then).
  const link: { up?: WebSocket } = {};
  client.on('message', (data: RawData) => {
    if (link.up?.readyState === WebSocket.OPEN) link.up.send(data, { binary: true });
    else queued.push(data);
  });
  const pinger = setInterval(() => client.ping(), opts.pingIntervalMs ?? 20_000);
  client.on('close', () => {
    clearInterval(pinger);
    done = true;
    // The agent kills the process when its side closes.
    link.up?.close(1000, 'client gone');
  });
  client.on('error', () => undefined);

  let target: Awaited<ReturnType<typeof placedContainer>>;
  try {
    target = await placedContainer(deps, claims.namespace, claims.instance, claims.container);
  } catch (e) {
    return end({ reason: e instanceof NotFoundError ? 'instance-gone' : 'error', message: e instanceof Error ? e.message : String(e) });
  }
  if (done) return;
  const url = agentExecUrl(target.node, target.containerId, claims, { cols: positive(req.query.cols), rows: positive(req.query.rows) });
  if (!url) return end({ reason: 'error', message: `node ${target.node.metadata.name} has no agent endpoint` });
  opts.audit?.record(
    auditEntryOf(req, 101, {
      user: claims.subject,
      principal: 'ticket',
      verb: 'exec',
      kind: 'Instance',
      namespace: claims.namespace,
      name: claims.instance,
      detail: `container ${target.container}${claims.tty ? ' (tty)' : ''}: ${JSON.stringify(claims.command)}`,
    }),
  );
  const secret = deps.endpointToken?.(target.node.metadata.name);
  const agentTls = deps.agentTls;
  const up = new WebSocket(url, {
    ...(agentTls ? { ca: agentTls.ca, cert: agentTls.cert, key: agentTls.key } : {}),
    ...(secret && !agentTls ? { headers: { authorization: `Bearer ${secret}` } } : {}),
    handshakeTimeout: 10_000,
    maxPayload: 16 * 1024 * 1024,
  });
  link.up = up;
  let sawStatus = false;
  up.on('unexpected-response', (_r, res) => {
    void refusalMessage(res).then((message) => {
      end({ reason: 'error', message: `the agent of node ${target.node.metadata.name} refused the session (HTTP ${res.statusCode}): ${message}` });
      up.terminate();
    });
  });
  up.on('open', () => {
    log.info({ node: target.node.metadata.name, container: target.container, tty: claims.tty, user: claims.subject }, 'exec session open');
    for (const data of queued.splice(0)) up.send(data, { binary: true });
  });
  up.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (bytes[0] === 3) sawStatus = true;
    if (client.readyState === client.OPEN) client.send(bytes, { binary: true });
  });
  up.on('close', () => {
    if (sawStatus) {
      done = true;
      if (client.readyState === client.OPEN) client.close(1000);
      return;
    }
    void (async () => {
      // Gone without saying how: the instance may have been deleted, or the agent lost.
      const still = await deps.store.get('Instance', claims.namespace, claims.instance).catch(() => undefined);
      if (!still) return end({ reason: 'instance-gone', message: `instance ${claims.instance} is gone` });
      end({ reason: 'agent-lost', message: `the connection to the agent of node ${target.node.metadata.name} ended` });
    })();
  });
  up.on('error', (e) => {
    log.info({ err: e.message }, 'exec upstream error');
    if (up.readyState !== up.CLOSED && up.readyState !== up.CLOSING) return;
    end({ reason: 'agent-lost', message: `cannot reach the agent of node ${target.node.metadata.name}: ${e.message}` });
  });
}
