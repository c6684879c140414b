// Bearer-token authentication and the routes' access policies. Every route's policy comes from the
// route registry (core/api/routes.ts) into its `config` (serve-route.ts); one onRequest hook
// enforces it before the body is even parsed, so an unknown caller learns nothing about our
// validation rules.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError, type Access, type Caller, type PersonRole } from '../core/index.js';

/** What a token stands for: the administrator, or a node's agent. */
export type Role = 'admin' | 'agent';

export const ALL_ROLES: readonly Role[] = ['admin', 'agent'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; set from the registry. Absent (the not-found route): any known token. */
    access?: Access;
    /** The registry id of the route. */
    routeId?: string;
  }
  interface FastifyRequest {
    role?: Role;
  }
}

/**
 * Whether the holder of a token has a person's role. Today the admin token is the only person and
 * has every role; the trust issue fills this in with people and their roles.
 */
export function hasPersonRole(role: Role, _wanted: PersonRole): boolean {
  return role === 'admin';
}

function admits(caller: Caller, role: Role): boolean {
  if (caller === 'admin') return role === 'admin';
  // A node about its own objects: today every node's agent shares the agent token.
  if (caller === 'node') return role === 'agent';
  return hasPersonRole(role, caller.role);
}

/** Whether a token of `role` may call a route with `access`. */
export function mayCall(access: Access, role: Role): boolean {
  if (access.public) return true;
  return access.allow.some((c) => admits(c, role));
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Finds the role of a presented token. Compares digests (equal length) with timingSafeEqual and
 * always walks every token, so timing reveals neither the token nor how many we hold.
 */
export function roleOfToken(tokens: ReadonlyMap<string, Role>, presented: string): Role | undefined {
  const given = digest(presented);
  let found: Role | undefined;
  for (const [token, role] of tokens) {
    if (timingSafeEqual(digest(token), given) && found === undefined) found = role;
  }
  return found;
}

function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Installs the onRequest hook that authenticates and authorizes every route. */
export function registerAuth(app: FastifyInstance, tokens: ReadonlyMap<string, Role>): void {
  app.decorateRequest('role', undefined);
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access;
    if (access?.public) return;
    const token = bearerOf(req);
    if (token === undefined) {
      throw new UnauthorizedError('missing token: send "Authorization: Bearer <token>" (the admin token is in <data dir>/admin.token)');
    }
    const role = roleOfToken(tokens, token);
    if (role === undefined) throw new UnauthorizedError('unknown token: check the token given to gantry (--token or GANTRY_TOKEN)');
    req.role = role;
    if (access && !mayCall(access, role)) {
      throw new ForbiddenError(access.forbidden ?? `role ${role} may not ${req.method} ${req.url}`);
    }
  });
}
