// Wire shapes and routes of node identity (issue 13, item 2): join tokens, the join itself, the
// cluster CA a joining agent pins against its join token, and revoking a node's credential.
//
//   POST /api/v1/auth/join-tokens   (admin) GTJ-1-<ca sha256>-<id>_<secret>, shown once
//   GET  /api/v1/cluster/ca         (public) the cluster CA certificate, PEM; the agent checks its
//                                   sha256 against the join token before it trusts it
//   POST /api/v1/join               (public; the join token in the body is the credential) one use
//                                   of the join token -> the node's credential (gtn_...), its Node
//                                   and the agent's serving certificate
//   POST /api/v1/nodes/:name/revoke (admin) the node's credentials refused at once, its open
//                                   watches and keep-alive connections closed
import Type, { type Static } from 'typebox';
import { AgentPortSchema, IpAddressSchema } from '../schema.js';
import { objectSchema } from './objects.js';
import type { RouteSpec } from './routes.js';

const NodeName = Type.String({
  pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
  maxLength: 63,
  errorMessage: 'must be a node name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
});

export const JoinTokenCreateSchema = Type.Object(
  {
    /** Seconds until the join token expires; default one hour. */
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86_400, errorMessage: 'must be from 1 minute to 30 days' })),
    /** How many nodes may join with it; default 1. */
    uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, errorMessage: 'must be a whole number from 1 to 100000' })),
  },
  { additionalProperties: false },
);
export type JoinTokenCreate = Static<typeof JoinTokenCreateSchema>;

export const JoinTokenCreatedSchema = Type.Object({ token: Type.String(), object: objectSchema('Token') });

export const JoinRequestSchema = Type.Object(
  {
    /** The join token (in the body, not the Authorization header: it is not an API credential). */
    token: Type.String({ minLength: 1, maxLength: 256 }),
    node: NodeName,
    /** How the server and other hosts reach the node: fixed in its credential and Node spec. */
    address: IpAddressSchema,
    /** Where the agent serves the server (logs): fixed likewise. */
    agentPort: AgentPortSchema,
    /** The node's labels at join (placement reads them); afterwards only an administrator changes them, except agent.gantry.io/. */
    labels: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9._/-]{1,253}$' }), Type.String({ maxLength: 63 }), { errorMessage: 'must be a map of label keys to strings' })),
    /** false: no serving certificate (hollow nodes share one log server). Default true. */
    servingCertificate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type JoinRequest = Static<typeof JoinRequestSchema>;

export const JoinAnswerSchema = Type.Object({
  node: Type.String(),
  /** The node's credential, `gtn_<id>_<secret>`: shown here once, stored hashed. */
  credential: Type.String(),
  /** The cluster CA (PEM): the agent trusts the server through it from now on. */
  caPem: Type.String(),
  /** What the server presents to this node's agent endpoint (Authorization: Bearer). */
  endpointToken: Type.String(),
  /** The agent's serving certificate and key (PEM), for its address; absent when not asked for. */
  certPem: Type.Optional(Type.String()),
  keyPem: Type.Optional(Type.String()),
});
export type JoinAnswer = Static<typeof JoinAnswerSchema>;

export const NodeRevokeResultSchema = Type.Object({
  message: Type.String(),
  /** The ids of the Token objects revoked (none when the node had no live credential). */
  revoked: Type.Array(Type.String()),
  /** Watches, log streams and keep-alive connections closed. */
  closed: Type.Integer({ minimum: 0 }),
});
export type NodeRevokeResult = Static<typeof NodeRevokeResultSchema>;

export const JOIN_ROUTES = {
  joinTokens: {
    id: 'auth.joinTokens',
    method: 'POST',
    path: '/api/v1/auth/join-tokens',
    summary: 'a join token for agents (GTJ-1-<ca sha256>-<id>_<secret>); the string is in this answer only',
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may make join tokens' },
    body: JoinTokenCreateSchema,
    response: JoinTokenCreatedSchema,
    status: 201,
  },
  clusterCa: {
    id: 'cluster.ca',
    method: 'GET',
    path: '/api/v1/cluster/ca',
    summary: "the cluster CA certificate (PEM); a joining agent compares its sha256 with the join token's before trusting it",
    access: { public: true },
    text: true,
  },
  join: {
    id: 'nodes.join',
    method: 'POST',
    path: '/api/v1/join',
    summary: "an agent joins with a join token (in the body): the node's credential, its Node, the agent's serving certificate",
    access: { public: true },
    body: JoinRequestSchema,
    response: JoinAnswerSchema,
    status: 201,
  },
  nodeRevoke: {
    id: 'nodes.revoke',
    method: 'POST',
    path: '/api/v1/nodes/:name/revoke',
    summary: "revoke a node's credentials: refused at once, its watches and connections closed",
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may revoke nodes' },
    params: Type.Object({ name: Type.String({ minLength: 1 }) }),
    body: Type.Object({}),
    response: NodeRevokeResultSchema,
  },
} as const satisfies Record<string, RouteSpec>;
