// Wire shapes of the token and auth routes (gantry token create|list|revoke, gantry auth
// whoami|can-i), and the one table from a `can-i` verb to the registry route it stands for, so
// the answer comes from the very policy the auth hook enforces.
import Type, { type Static } from 'typebox';
import type { KindInfo } from '../kinds.js';
import type { Principal } from './auth.js';
import { objectSchema } from './objects.js';

const NS_OR_ALL = Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\\*)$', maxLength: 63, errorMessage: "must be a namespace name or '*' for every namespace" });

/** `POST /api/v1/auth/tokens`: a person's token. */
export const TokenCreateSchema = Type.Object(
  {
    type: Type.Literal('user', { errorMessage: 'must be user' }),
    user: Type.String({ pattern: '^[a-z0-9]([-a-z0-9._@]*[a-z0-9])?$', maxLength: 63, errorMessage: 'must be a user name: lower-case letters, digits, "-", ".", "_", "@"' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('edit'), Type.Literal('view'), Type.Literal('metrics')], { errorMessage: 'must be one of admin, edit, view, metrics' }),
    namespaces: Type.Array(NS_OR_ALL, { minItems: 1, maxItems: 100, errorMessage: "must list at least one namespace, or '*'" }),
    /** Seconds until the token expires; absent: never. */
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 365 * 86_400, errorMessage: 'must be from 1 minute to 10 years' })),
  },
  { additionalProperties: false },
);
export type TokenCreate = Static<typeof TokenCreateSchema>;

/** The token string is in this answer only: it is never stored and never shown again. */
export const TokenCreatedSchema = Type.Object({ token: Type.String(), object: objectSchema('Token') });

export const WhoAmISchema = Type.Object({
  principal: Type.Object({
    kind: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('node')]),
    name: Type.String(),
    role: Type.Optional(Type.String()),
    namespaces: Type.Optional(Type.Union([Type.Literal('*'), Type.Array(Type.String())])),
    tokenId: Type.Optional(Type.String()),
    address: Type.Optional(Type.String()),
    agentPort: Type.Optional(Type.Integer()),
  }),
  /** `user alice (edit in namespace team-a)`. */
  description: Type.String(),
  expiresAt: Type.Optional(Type.String()),
});
export type WhoAmI = Omit<Static<typeof WhoAmISchema>, 'principal'> & { principal: Principal };

/** The verbs of `gantry auth can-i`. */
export const CAN_I_VERBS = ['get', 'list', 'watch', 'create', 'apply', 'delete', 'scale', 'rollout', 'stop', 'logs', 'trigger', 'suspend', 'resume', 'cordon', 'uncordon', 'drain', 'revoke'] as const;
export type CanIVerb = (typeof CAN_I_VERBS)[number];

export const CanIQuerySchema = Type.Object({
  verb: Type.String({ minLength: 1 }),
  kind: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
});

export const CanIResultSchema = Type.Object({
  allowed: Type.Boolean(),
  /** Why: the role needed and where, or what the caller's credential allows. */
  reason: Type.String(),
  /** The registry route the question was answered for. */
  route: Type.Optional(Type.String()),
});
export type CanIResult = Static<typeof CanIResultSchema>;

/** The registry route id a verb on a kind stands for; undefined: the kind has no such action. */
export function canIRouteId(verb: CanIVerb, k: KindInfo, allNamespaces: boolean): string | undefined {
  const generic: Partial<Record<CanIVerb, string>> = {
    get: `${k.plural}.get`,
    list: allNamespaces && k.namespaced ? `${k.plural}.listAll` : `${k.plural}.list`,
    watch: allNamespaces && k.namespaced ? `${k.plural}.listAll` : `${k.plural}.list`,
    create: `${k.plural}.create`,
    apply: `${k.plural}.apply`,
    delete: `${k.plural}.delete`,
  };
  const special: Partial<Record<string, Partial<Record<CanIVerb, string>>>> = {
    Service: { scale: 'services.scale', rollout: 'services.rolloutAction' },
    Instance: { stop: 'instances.stop', logs: 'instances.log' },
    CronJob: { trigger: 'cronjobs.trigger', suspend: 'cronjobs.suspend', resume: 'cronjobs.resume' },
    Node: { cordon: 'nodes.action', uncordon: 'nodes.action', drain: 'nodes.action' },
    Token: { create: 'tokens.issue', revoke: 'tokens.revoke' },
  };
  return special[k.kind]?.[verb] ?? generic[verb];
}

