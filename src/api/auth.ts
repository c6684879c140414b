// Bearer-token authentication and route-level roles. Every route states who may call it in its
// `config`; one onRequest hook enforces that before the body is even parsed, so an unknown caller
// learns nothing about our validation rules.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/index.js';

export type Role = 'admin' | 'agent';

export const ALL_ROLES: readonly Role[] = ['admin', 'agent'];

/** What a route asks of its caller; set as the route's `config`. */
export interface RouteAccess {
  /** No token needed (GET /healthz). */
  public?: boolean;
  /** Roles allowed; all roles when absent. */
  roles?: readonly Role[];
  /** The 403 message for a role not in `roles`; says what to do instead. */
  forbidden?: string;
}

declare module 'fastify' {
  // Declaration merging needs an interface; the members come from RouteAccess.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    role?: Role;
  }
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
    const access = req.routeOptions.config;
    if (access.public) return;
    const token = bearerOf(req);
    if (token === undefined) {
      throw new AppError('UNAUTHORIZED', 'missing token: send "Authorization: Bearer <token>" (the admin token is in <data dir>/admin.token)');
    }
    const role = roleOfToken(tokens, token);
    if (role === undefined) throw new AppError('UNAUTHORIZED', 'unknown token: check the token given to gantry (--token or GANTRY_TOKEN)');
    req.role = role;
    if (access.roles && !access.roles.includes(role)) {
      throw new AppError('FORBIDDEN', access.forbidden ?? `role ${role} may not ${req.method} ${req.url}`);
    }
  });
}
