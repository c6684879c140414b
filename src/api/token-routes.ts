// People's tokens and the caller's own view of its access:
//   POST /api/v1/auth/tokens            (admin) a new token; the string is in this answer only
//   POST /api/v1/tokens/:name/revoke    (admin) status.revokedAt, at once (the mirror is told)
//   GET  /api/v1/auth/whoami            (anyone) the principal of the token
//   GET  /api/v1/auth/can-i             (anyone) VERB KIND [namespace], answered by mayCall over
//                                       the registry route the verb stands for: the same policy
//                                       the auth hook enforces, so the two cannot drift.
// Token objects are listed and read through the generic routes (admins only, secretHash never).
import type { FastifyInstance } from 'fastify';
import {
  ALL_ROUTES,
  CAN_I_VERBS,
  canIRouteId,
  DEFAULT_NAMESPACE,
  describePrincipal,
  InvalidError,
  KINDS,
  MalformedError,
  NotFoundError,
  redactSecret,
  resolveKind,
  ROUTES,
  schemaErrors,
  TokenCreateSchema,
  type CanIResult,
  type CanIVerb,
  type Principal,
  type Token,
  type TokenCreate,
  type WhoAmI,
} from '../core/index.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import { forbiddenMessage, mayCall, principalOf } from './auth.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';
import { issueToken } from './token-issue.js';

function parseCreate(body: unknown): TokenCreate {
  const errors = schemaErrors(TokenCreateSchema, body, '');
  if (errors.length > 0) throw new InvalidError('the token request is invalid', errors);
  return body as TokenCreate;
}

/** Answers `can-i VERB KIND [-n NS]` for `p`; `namespace` '*' asks about every namespace. */
export function canI(p: Principal, verbWord: string, kindWord: string, namespace: string | undefined): CanIResult {
  const verb = CAN_I_VERBS.find((v): v is CanIVerb => v === verbWord.toLowerCase());
  if (!verb) throw new MalformedError(`unknown verb "${verbWord}"; one of ${CAN_I_VERBS.join(', ')}`);
  const k = resolveKind(kindWord);
  if (!k) throw new MalformedError(`unknown kind "${kindWord}"; one of ${KINDS.map((i) => i.plural).join(', ')}`);
  const all = namespace === '*';
  const id = canIRouteId(verb, k, all);
  const route = ALL_ROUTES.find((r) => r.id === id);
  if (!route) return { allowed: false, reason: `${k.plural} have no ${verb}` };
  const ns = k.namespaced && !all ? (namespace ?? DEFAULT_NAMESPACE) : undefined;
  const what = `${verb} ${k.plural}${ns !== undefined ? ` in namespace ${ns}` : ''}`;
  if (!mayCall(route.access, p, ns)) return { allowed: false, reason: forbiddenMessage(route.access, p, ns, what), route: route.id };
  const scoped = all && p.kind === 'user' && p.namespaces !== '*' ? ` (only in namespaces ${p.namespaces.join(', ')})` : '';
  return { allowed: true, reason: `${describePrincipal(p)} may ${what}${scoped}`, route: route.id };
}

export function registerTokenRoutes(app: FastifyInstance, deps: RouteDeps, now: () => Date): void {
  serve(app, ROUTES.tokenIssue, async (req, reply) => {
    const body = parseCreate(req.body);
    const namespaces = body.namespaces.includes('*') ? ['*'] : [...new Set(body.namespaces)];
    const expiresAt = body.ttlSeconds === undefined ? undefined : new Date(now().getTime() + body.ttlSeconds * 1000).toISOString();
    const { token, manifest } = issueToken({ type: 'user', user: body.user, role: body.role, namespaces, ...(expiresAt ? { expiresAt } : {}) });
    const created = await deps.store.create<Token>(manifest);
    deps.tokens.note(created);
    deps.logger.info({ kind: 'Token', name: created.metadata.name, user: body.user, role: body.role, namespaces, expiresAt, by: describePrincipal(principalOf(req)) }, 'token created');
    return reply.code(201).send({ token, object: redactSecret(created) });
  });

  serve(app, ROUTES.tokenRevoke, async (req) => {
    const name = req.params.name ?? '';
    const revoked = await retryOnConflict(async () => {
      const t = await deps.store.get('Token', undefined, name);
      if (!t) throw new NotFoundError('Token', undefined, name);
      if (t.status?.revokedAt) return t;
      return deps.store.update<Token>({ ...t, status: { ...t.status, revokedAt: now().toISOString() } });
    });
    deps.tokens.note(revoked);
    deps.logger.info({ kind: 'Token', name, revokedAt: revoked.status?.revokedAt, by: describePrincipal(principalOf(req)) }, 'token revoked');
    return revoked;
  });

  serve(app, ROUTES.whoami, async (req): Promise<WhoAmI> => {
    const p = principalOf(req);
    const expiresAt = p.kind === 'admin' ? undefined : deps.tokens.get(p.tokenId)?.spec.expiresAt;
    return { principal: p, description: describePrincipal(p), ...(expiresAt ? { expiresAt } : {}) };
  });

  serve(app, ROUTES.canI, async (req) => {
    const q = req.query as { verb?: unknown; kind?: unknown; namespace?: unknown };
    if (typeof q.verb !== 'string' || typeof q.kind !== 'string') throw new MalformedError('can-i needs ?verb=VERB&kind=KIND[&namespace=NS]');
    return canI(principalOf(req), q.verb, q.kind, typeof q.namespace === 'string' && q.namespace !== '' ? q.namespace : undefined);
  });
}
