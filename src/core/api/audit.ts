// Wire shape of the audit log (docs/security.md, "Audit log"): one entry per audited request, as
// the server writes it to `<data dir>/audit/` and answers it from `GET /api/v1/audit`.
import Type, { type Static } from 'typebox';

export const AuditEntrySchema = Type.Object({
  /** When the request arrived (ISO). */
  time: Type.String(),
  /** `admin`, the user's name, `node/<name>` (`node/*`: the shared agent token), or `-` when unauthenticated. */
  user: Type.String(),
  /** admin, user, node, or none (no valid token). */
  principal: Type.String(),
  tokenId: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  /** apply, create, delete, scale, logs, get, list, exec, ...: the action of the route. */
  verb: Type.String(),
  kind: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  /** The registry route id (`services.apply`). */
  route: Type.Optional(Type.String()),
  method: Type.String(),
  path: Type.String(),
  /** The caller's address. */
  remote: Type.String(),
  /** The HTTP status answered (101: a WebSocket session began). */
  status: Type.Integer(),
  /** What the route adds: for an exec session, the container and the command. */
  detail: Type.Optional(Type.String()),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object({
  user: Type.Optional(Type.String({ description: 'only this user (admin, alice, node/n1)' })),
  since: Type.Optional(Type.String({ description: 'only entries at or after this ISO time' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'the newest N entries; default 1000' })),
});

export const AuditListSchema = Type.Object({ items: Type.Array(AuditEntrySchema) });
