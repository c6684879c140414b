// Authentication and authorization of every route. Each route's policy comes from the route
// registry (core/api/routes.ts) into its `config` (serve-route.ts); one onRequest hook finds the
// caller's Principal and checks the policy before the body is even parsed, so an unknown caller
// learns nothing about our validation rules.
//
// Authentication is a chain of synchronous lookups in memory, first match wins:
//   1. the bootstrap admin token (<data dir>/admin.token)            -> { kind: 'admin' }
//   2. gtu_<id>_<secret> / gtn_<id>_<secret>: the Token object <id> from the TokenMirror, the
//      sha256 of the secret compared in constant time with spec.secretHash; refused when revoked,
//      expired, or of another type                                  -> { kind: 'user' | 'node' }
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  describePrincipal,
  ForbiddenError,
  inNamespace,
  isClusterAdmin,
  parseToken,
  personRoleOf,
  roleCovers,
  UnauthorizedError,
  type Access,
  type Caller,
  type PersonRole,
  type Principal,
  type Token,
} from '../core/index.js';
import { isApiPath } from './console-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; set from the registry. Absent (the not-found route): any known token. */
    access?: Access;
    /** The registry id of the route. */
    routeId?: string;
  }
  interface FastifyRequest {
    /** Who sent the request; set by the auth hook on every route that is not public. */
    principal?: Principal;
  }
}

/** Where the authenticator finds Token objects by id (the TokenMirror). */
export interface TokenLookup {
  get(id: string): Token | undefined;
}

export interface AuthenticatorOptions {
  adminToken: string;
  tokens: TokenLookup;
  now?: (() => Date) | undefined;
  /** Told of every Token object a request authenticated with (TokenUsage: lastUsedAt). */
  onUsed?: ((t: Token) => void) | undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Hex sha256 of a token's secret part: what a Token's spec.secretHash holds. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const ADMIN: Principal = { kind: 'admin', name: 'admin' };

export class Authenticator {
  private readonly adminDigest: Buffer;
  /** Whether the admin token has the shape of a person's, node's or join token (an operator may write any). */
  private readonly adminIsTokenShaped: boolean;
  private readonly now: () => Date;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.adminDigest = digest(opts.adminToken);
    this.adminIsTokenShaped = parseToken(opts.adminToken) !== undefined;
    this.now = opts.now ?? (() => new Date());
  }

  /** The principal a presented token stands for; throws UnauthorizedError saying why not. */
  authenticate(presented: string): Principal {
    const parsed = parseToken(presented);
    // Digests have equal lengths, so timingSafeEqual applies. Nodes have no shared token: each
    // has its own credential from its join (gtn_...). A token of that shape cannot be an admin
    // token that is not: its digest is not compared with the admin's (which decides on the shape
    // alone, nothing secret), sparing one of the two hashes of every agent request.
    if ((!parsed || this.adminIsTokenShaped) && timingSafeEqual(digest(presented), this.adminDigest)) return ADMIN;
    if (!parsed || parsed.type === 'join') throw new UnauthorizedError('unknown token: check the token given to gantry (GANTRY_TOKEN or --token-file)');
    const token = this.opts.tokens.get(parsed.id);
    const expected = token ? Buffer.from(token.spec.secretHash, 'hex') : undefined;
    const matches = expected !== undefined && expected.length === 32 && timingSafeEqual(digest(parsed.secret), expected);
    if (!token || !matches || token.spec.type !== parsed.type) throw new UnauthorizedError('unknown token: check the token given to gantry (GANTRY_TOKEN or --token-file)');
    if (token.status?.revokedAt) throw new UnauthorizedError(`token ${parsed.id} was revoked at ${token.status.revokedAt}`);
    if (token.spec.expiresAt && Date.parse(token.spec.expiresAt) <= this.now().getTime()) {
      throw new UnauthorizedError(`token ${parsed.id} expired at ${token.spec.expiresAt}; ask an administrator for a new one`);
    }
    this.opts.onUsed?.(token);
    return principalOfToken(token);
  }
}

/** The principal a valid Token object stands for. */
export function principalOfToken(t: Token): Principal {
  const s = t.spec;
  if (s.type === 'node') return { kind: 'node', name: s.node ?? '', tokenId: t.metadata.name, address: s.address ?? '', agentPort: s.agentPort ?? 0 };
  const namespaces = !s.namespaces || s.namespaces.includes('*') ? '*' : s.namespaces;
  return { kind: 'user', name: s.user ?? '', role: s.role ?? 'view', namespaces, tokenId: t.metadata.name };
}

function admits(caller: Caller, p: Principal, namespace: string | undefined): boolean {
  if (caller === 'admin') return isClusterAdmin(p);
  if (caller === 'node') return p.kind === 'node';
  const role = personRoleOf(p);
  if (!role || !roleCovers(role, caller.role)) return false;
  return namespace === undefined || inNamespace(p, namespace);
}

/**
 * Whether `p` may call a route with `access`. `namespace`: the route's `:namespace` parameter; a
 * person's role applies only in its namespaces (cluster-wide routes: anywhere).
 */
export function mayCall(access: Access, p: Principal, namespace?: string): boolean {
  if (access.public) return true;
  return access.allow.some((c) => admits(c, p, namespace));
}

/** The least person role a policy admits, if it admits persons by role. */
function roleNeeded(access: Access): PersonRole | undefined {
  if (access.public) return undefined;
  const roles = access.allow.flatMap((c) => (typeof c === 'object' ? [c.role] : c === 'admin' ? ['admin' as const] : []));
  return roles.reduce<PersonRole | undefined>((least, r) => (least === undefined || roleCovers(least, r) ? r : least), undefined);
}

/** The 403 message: for a person, the role needed and where; for others, the route's own message. */
export function forbiddenMessage(access: Access, p: Principal, namespace: string | undefined, what: string): string {
  const own = access.public ? undefined : access.forbidden;
  const needed = roleNeeded(access);
  if (p.kind !== 'user' || needed === undefined) return own ?? `${describePrincipal(p)} may not ${what}`;
  const where = needed === 'admin' ? 'in every namespace' : namespace !== undefined ? `in namespace ${namespace}` : '';
  return `${describePrincipal(p)} may not ${what}: role ${needed} is needed ${where}`.trimEnd();
}

/**
 * Which namespaces a principal sees in lists that span namespaces: undefined for all, else a test.
 * Nodes see every namespace (their agents filter by node; the node authorizer narrows them).
 */
export function namespaceFilter(p: Principal | undefined): ((namespace: string) => boolean) | undefined {
  if (!p || p.kind !== 'user' || p.namespaces === '*') return undefined;
  const mine = new Set(p.namespaces);
  return (ns) => mine.has(ns);
}

/** The principal of an authenticated request (every route that is not public has one). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new UnauthorizedError('this route needs a token');
  return req.principal;
}

function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function namespaceParam(req: FastifyRequest): string | undefined {
  const ns = (req.params as Record<string, unknown> | undefined)?.namespace;
  return typeof ns === 'string' ? ns : undefined;
}

/** Installs the onRequest hook that authenticates and authorizes every route. */
export function registerAuth(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access;
    // The console's catch-all (GET /*) also catches unknown API paths: those, like any unknown
    // route, need a token first.
    if (access?.public && !(req.routeOptions.config.routeId === 'console' && isApiPath(req.url))) return;
    const token = bearerOf(req);
    if (token === undefined) {
      throw new UnauthorizedError('missing token: send "Authorization: Bearer <token>" (the admin token is in <data dir>/admin.token)');
    }
    const principal = auth.authenticate(token);
    req.principal = principal;
    const namespace = namespaceParam(req);
    if (access && !mayCall(access, principal, namespace)) {
      throw new ForbiddenError(forbiddenMessage(access, principal, namespace, `${req.method} ${req.url.split('?')[0] ?? ''}`));
    }
  });
}
