// Node identity: join tokens, joins, the cluster CA for pinning, and revoking a node (see
// core/api/join.ts for the routes). A join is the only way a node gets a credential: the join
// token (one use per node) buys a node-bound token `gtn_<id>_<secret>` whose Token object carries
// the node's name, address and agent port, fixed from then on; the node authorizer
// (node-authorizer.ts) holds every later request of that credential to them.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  API_VERSION,
  ConflictError,
  describePrincipal,
  InvalidError,
  JOIN_ROUTES,
  JoinRequestSchema,
  JoinTokenCreateSchema,
  NotFoundError,
  parseToken,
  redactSecret,
  schemaErrors,
  UnauthorizedError,
  UnavailableError,
  type GantryNode,
  type JoinAnswer,
  type JoinRequest,
  type JoinTokenCreate,
  type Manifest,
  type Token,
} from '../core/index.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import { applyObject } from './apply.js';
import { principalOf } from './auth.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import { issueToken } from './token-issue.js';

/** What joins need from the server root: the cluster CA and the secrets only it can make. */
export interface JoinDeps {
  caPem: string;
  /** Hex sha256 of the CA certificate's DER: what join tokens carry. */
  caFingerprint: string;
  /** The agent's serving certificate for its node name and address, signed by the cluster CA. */
  issueServingCertificate(node: string, address: string): Promise<{ certPem: string; keyPem: string }>;
  /** What the server presents to a node's agent endpoint; derived per node, never stored. */
  endpointToken(node: string): string;
}

const DEFAULT_JOIN_TTL_S = 3600;
const JOIN_REFUSED = 'the join token is not valid: check it (GANTRY_TOKEN or --token-file), or ask an administrator for a new one (gantry token create --join)';

/** Whether a Token is live now: not revoked, not expired. */
export function isLive(t: Token, now: Date): boolean {
  if (t.status?.revokedAt) return false;
  return !t.spec.expiresAt || Date.parse(t.spec.expiresAt) > now.getTime();
}

/** The live credentials of node `name`. */
export function liveNodeTokens(tokens: readonly Token[], name: string, now: Date): Token[] {
  return tokens.filter((t) => t.spec.type === 'node' && t.spec.node === name && isLive(t, now));
}

function parseBody<T>(schema: Parameters<typeof schemaErrors>[0], body: unknown, what: string): T {
  const errors = schemaErrors(schema, body ?? {}, '');
  if (errors.length > 0) throw new InvalidError(`the ${what} is invalid`, errors);
  return (body ?? {}) as T;
}

/** Checks the join token against its Token object (constant time) and returns the object. */
function joinTokenOf(deps: RouteDeps, join: JoinDeps, presented: string, now: Date): Token {
  const parsed = parseToken(presented);
  if (!parsed || parsed.type !== 'join') throw new UnauthorizedError(JOIN_REFUSED);
  if (parsed.caFingerprint !== join.caFingerprint) {
    throw new UnauthorizedError('the join token was made for another cluster CA than this server has (its fingerprint differs); make a new one on this server');
  }
  const t = deps.tokens.get(parsed.id);
  const expected = t ? Buffer.from(t.spec.secretHash, 'hex') : undefined;
  const given = createHash('sha256').update(parsed.secret).digest();
  if (!t || t.spec.type !== 'join' || expected?.length !== 32 || !timingSafeEqual(given, expected)) throw new UnauthorizedError(JOIN_REFUSED);
  if (t.status?.revokedAt) throw new UnauthorizedError(`join token ${parsed.id} was revoked at ${t.status.revokedAt}`);
  if (t.spec.expiresAt && Date.parse(t.spec.expiresAt) <= now.getTime()) throw new UnauthorizedError(`join token ${parsed.id} expired at ${t.spec.expiresAt}; make a new one (gantry token create --join)`);
  return t;
}

/** Takes one use of the join token (compare-and-swap on its revision). */
async function consumeUse(deps: RouteDeps, id: string, now: Date): Promise<void> {
  const used = await retryOnConflict(async () => {
    const t = await deps.store.get('Token', undefined, id);
    if (!t) throw new UnauthorizedError(JOIN_REFUSED);
    const left = t.spec.usesLeft ?? 0;
    if (left <= 0) throw new UnauthorizedError(`join token ${id} is used up; make a new one (gantry token create --join --uses N)`);
    return deps.store.update<Token>({ ...t, spec: { ...t.spec, usesLeft: left - 1 }, status: { ...t.status, uses: (t.status?.uses ?? 0) + 1, lastUsedAt: now.toISOString() } });
  });
  deps.tokens.note(used);
}

/** Creates or takes over the Node: address and agent port as joined, the join's labels added, an administrator's spec kept. */
async function writeNode(deps: RouteDeps, r: JoinRequest): Promise<GantryNode> {
  const { object } = await retryOnConflict(async () => {
    const existing = await deps.store.get('Node', undefined, r.node);
    const manifest: Manifest = {
      apiVersion: API_VERSION,
      kind: 'Node',
      metadata: { name: r.node, labels: { ...(existing?.metadata.labels ?? {}), ...(r.labels ?? {}) }, ...(existing ? { revision: existing.metadata.revision } : {}) },
      spec: { ...(existing?.spec ?? {}), address: r.address, agentPort: r.agentPort },
    };
    return applyObject(deps.store, manifest);
  });
  return object as GantryNode;
}

/**
 * A node credential, without a join token: for the server's own agent (`gantry up`) and hollow
 * nodes of an embedded simulator, which run in the server's process. Earlier credentials of the
 * node are revoked (a previous run's).
 */
export async function issueNodeCredential(deps: RouteDeps, node: { name: string; address: string; agentPort: number; labels?: Record<string, string> }, now: Date): Promise<string> {
  await revokeNodeTokens(deps, node.name, now);
  const { token, manifest } = issueToken({ type: 'node', node: node.name, address: node.address, agentPort: node.agentPort }, { labels: { 'gantry.io/node': node.name } });
  deps.tokens.note(await deps.store.create<Token>(manifest));
  await writeNode(deps, { token: '', node: node.name, address: node.address, agentPort: node.agentPort, ...(node.labels ? { labels: node.labels } : {}) });
  return token;
}

/** Revokes every live credential of a node; closes their streams and connections. */
async function revokeNodeTokens(deps: RouteDeps, name: string, now: Date): Promise<{ revoked: string[]; closed: number }> {
  const live = liveNodeTokens(deps.tokens.list(), name, now);
  const revoked: string[] = [];
  let closed = 0;
  for (const t of live) {
    const done = await retryOnConflict(async () => {
      const cur = await deps.store.get('Token', undefined, t.metadata.name);
      if (!cur || cur.status?.revokedAt) return cur;
      return deps.store.update<Token>({ ...cur, status: { ...cur.status, revokedAt: now.toISOString() } });
    });
    if (done) deps.tokens.note(done);
    revoked.push(t.metadata.name);
    closed += deps.streams.closeOwner(t.metadata.name);
  }
  return { revoked, closed };
}

export function registerJoinRoutes(app: FastifyInstance, deps: RouteDeps, join: JoinDeps | undefined, now: () => Date): void {
  // Uses of one join token are taken one after another on this server: a sim's thousands of hollow
  // nodes join with one token, and racing compare-and-swaps on it would run out of retries. Other
  // servers still race through the store's compare-and-swap (retryOnConflict).
  const useQueues = new Map<string, Promise<void>>();
  const takeUse = (id: string, at: Date): Promise<void> => {
    const next = (useQueues.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => consumeUse(deps, id, at));
    useQueues.set(id, next);
    void next.finally(() => {
      if (useQueues.get(id) === next) useQueues.delete(id);
    }).catch(() => undefined);
    return next;
  };
  const need = (): JoinDeps => {
    if (!join) throw new UnavailableError('this server has no cluster CA, so nodes cannot join it; start it with TLS (the default)');
    return join;
  };

  serve(app, JOIN_ROUTES.joinTokens, async (req, reply) => {
    const j = need();
    const body = parseBody<JoinTokenCreate>(JoinTokenCreateSchema, req.body, 'join token request');
    const expiresAt = new Date(now().getTime() + (body.ttlSeconds ?? DEFAULT_JOIN_TTL_S) * 1000).toISOString();
    const { token, manifest } = issueToken({ type: 'join', expiresAt, usesLeft: body.uses ?? 1 }, { caFingerprint: j.caFingerprint });
    const created = await deps.store.create<Token>(manifest);
    deps.tokens.note(created);
    deps.logger.info({ kind: 'Token', name: created.metadata.name, type: 'join', expiresAt, uses: body.uses ?? 1, by: describePrincipal(principalOf(req)) }, 'join token created');
    return reply.code(201).send({ token, object: redactSecret(created) });
  });

  serve(app, JOIN_ROUTES.clusterCa, async (_req, reply) => reply.header('content-type', 'application/x-pem-file').send(need().caPem));

  serve(app, JOIN_ROUTES.join, async (req, reply) => {
    const j = need();
    const at = now();
    const r = parseBody<JoinRequest>(JoinRequestSchema, req.body, 'join request');
    const joinToken = joinTokenOf(deps, j, r.token, at);
    // One host per node name: taking over a joined node's name would hand over its instances and Secrets.
    const live = liveNodeTokens(deps.tokens.list(), r.node, at);
    if (live.length > 0) throw new ConflictError(`node ${r.node} has joined already; to join a host under this name, revoke the old one first: gantry node revoke ${r.node}`);
    await takeUse(joinToken.metadata.name, at);
    const { token, manifest } = issueToken({ type: 'node', node: r.node, address: r.address, agentPort: r.agentPort }, { labels: { 'gantry.io/node': r.node } });
    deps.tokens.note(await deps.store.create<Token>(manifest));
    await writeNode(deps, r);
    const serving = r.servingCertificate === false ? undefined : await j.issueServingCertificate(r.node, r.address);
    deps.logger.info({ kind: 'Node', name: r.node, address: r.address, agentPort: r.agentPort, credential: manifest.metadata.name, joinToken: joinToken.metadata.name }, 'node joined');
    await deps.events.record({ kind: 'Node', name: r.node }, 'Normal', 'NodeJoined', `node ${r.node} joined at ${r.address} (agent port ${r.agentPort}) with join token ${joinToken.metadata.name}`, 'api');
    const answer: JoinAnswer = { node: r.node, credential: token, caPem: j.caPem, endpointToken: j.endpointToken(r.node), ...(serving ?? {}) };
    return reply.code(201).send(answer);
  });

  serve(app, JOIN_ROUTES.nodeRevoke, async (req) => {
    const name = req.params.name ?? '';
    const at = now();
    const { revoked, closed } = await revokeNodeTokens(deps, name, at);
    if (revoked.length === 0 && !(await deps.store.get('Node', undefined, name))) throw new NotFoundError('Node', undefined, name);
    const message =
      revoked.length === 0
        ? `node ${name} has no live credential; nothing to revoke`
        : `node ${name} revoked: its credential is refused from now on (${closed} open stream${closed === 1 ? '' : 's'} and connection${closed === 1 ? '' : 's'} closed); it joins again with a new join token`;
    if (revoked.length > 0) {
      deps.logger.info({ kind: 'Node', name, revoked, closed, by: describePrincipal(principalOf(req)) }, 'node revoked');
      await deps.events.record({ kind: 'Node', name }, 'Warning', 'NodeRevoked', message, 'api');
    }
    return { message, revoked, closed };
  });
}
