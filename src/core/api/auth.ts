// Who a caller is (the Principal) and what a role covers. Types and pure rules only: the server's
// authenticator (src/api/auth.ts) builds principals from tokens, the CLI and a console read them
// from `GET /api/v1/auth/whoami`. No Node modules here.

/** A person's role. Roles nest: admin ⊃ edit ⊃ view ⊃ metrics. */
export type PersonRole = 'admin' | 'edit' | 'view' | 'metrics';

export const PERSON_ROLES: readonly PersonRole[] = ['admin', 'edit', 'view', 'metrics'];

/** Who sent a request, as the authenticator established it. */
export type Principal =
  /** The bootstrap token in <data dir>/admin.token. */
  | { kind: 'admin'; name: 'admin' }
  /** A person's token (`gantry token create --user`): a role in some namespaces ('*': all). */
  | { kind: 'user'; name: string; role: PersonRole; namespaces: readonly string[] | '*'; tokenId: string }
  /** A node's agent, with its own credential from its join; address and agentPort are fixed then. */
  | { kind: 'node'; name: string; tokenId: string; address: string; agentPort: number };

const RANK: Readonly<Record<PersonRole, number>> = { metrics: 0, view: 1, edit: 2, admin: 3 };

/** Whether a holder of role `has` may do what role `wanted` may. */
export function roleCovers(has: PersonRole, wanted: PersonRole): boolean {
  return RANK[has] >= RANK[wanted];
}

/** Whether the principal acts in `namespace` with its role (admins everywhere; nodes nowhere as persons). */
export function inNamespace(p: Principal, namespace: string): boolean {
  if (p.kind === 'admin') return true;
  if (p.kind === 'node') return false;
  return p.namespaces === '*' || p.namespaces.includes(namespace);
}

/** The principal's person role, if it is a person (the bootstrap admin has role admin). */
export function personRoleOf(p: Principal): PersonRole | undefined {
  if (p.kind === 'admin') return 'admin';
  return p.kind === 'user' ? p.role : undefined;
}

/** Whether the principal is a cluster administrator: the bootstrap token, or role admin in every namespace. */
export function isClusterAdmin(p: Principal): boolean {
  return p.kind === 'admin' || (p.kind === 'user' && p.role === 'admin' && p.namespaces === '*');
}

/** A short description for messages and whoami: `user alice (edit in team-a)`. */
export function describePrincipal(p: Principal): string {
  if (p.kind === 'admin') return 'the admin token';
  if (p.kind === 'node') return `node ${p.name}`;
  const where = p.namespaces === '*' ? 'every namespace' : p.namespaces.length === 1 ? `namespace ${p.namespaces[0] ?? ''}` : `namespaces ${p.namespaces.join(', ')}`;
  return `user ${p.name} (${p.role} in ${where})`;
}

// ---- Token strings ----

/** What a token is for: a person's API token, a node's credential, or a one-time join token. */
export type TokenType = 'user' | 'node' | 'join';

/** Token ids: random, lower-case letters and digits; also the Token object's name. */
export const TOKEN_ID_PATTERN = '^[a-z0-9]{10}$';
/** Secrets are 32 random bytes, written as 64 hex digits. */
const SECRET = '[0-9a-f]{64}';
const ID = '[a-z0-9]{10}';
const PERSON_OR_NODE = new RegExp(`^gt([un])_(${ID})_(${SECRET})$`);
const JOIN = new RegExp(`^GTJ-1-([0-9a-f]{64})-(${ID})_(${SECRET})$`);

export interface ParsedToken {
  type: TokenType;
  id: string;
  secret: string;
  /** Join tokens: the hex sha256 of the cluster CA certificate (DER) the joining agent must see. */
  caFingerprint?: string;
}

/** `gtu_<id>_<secret>` (user), `gtn_<id>_<secret>` (node), `GTJ-1-<ca sha256>-<id>_<secret>` (join). */
export function formatToken(t: ParsedToken): string {
  if (t.type === 'join') return `GTJ-1-${t.caFingerprint ?? ''}-${t.id}_${t.secret}`;
  return `gt${t.type === 'user' ? 'u' : 'n'}_${t.id}_${t.secret}`;
}

/** The parts of a token string, or undefined for anything else (the bootstrap tokens among them). */
export function parseToken(s: string): ParsedToken | undefined {
  const m = PERSON_OR_NODE.exec(s);
  if (m) return { type: m[1] === 'u' ? 'user' : 'node', id: m[2] ?? '', secret: m[3] ?? '' };
  const j = JOIN.exec(s);
  if (j) return { type: 'join', id: j[2] ?? '', secret: j[3] ?? '', caFingerprint: j[1] ?? '' };
  return undefined;
}
