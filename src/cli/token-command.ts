// `gantry token create|list|revoke`: people's API tokens (cluster administrators only). The token
// string is printed once, alone on stdout (so `> alice.token` keeps it); what it is goes to stderr.
import { Command } from '@commander-js/extra-typings';
import { PERSON_ROLES, UsageError, type PersonRole, type Token } from '../core/index.js';
import { formatAge } from './age.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { formatTable } from './table.js';

const TTL_UNITS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

/** `90m`, `12h`, `30d`, `2w` -> seconds. */
export function parseTtl(value: string): number {
  const m = /^([0-9]{1,6})([mhdw])$/.exec(value.trim());
  const unit = m?.[2] !== undefined ? TTL_UNITS[m[2]] : undefined;
  if (!m || unit === undefined || Number(m[1]) === 0) throw new UsageError(`--ttl "${value}" is not a duration like 90m, 12h, 30d or 2w`);
  return Number(m[1]) * unit;
}

function parseRole(value: string): PersonRole {
  const role = PERSON_ROLES.find((r) => r === value);
  if (!role) throw new UsageError(`--role "${value}" is not a role: use one of ${PERSON_ROLES.join(', ')}`);
  return role;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** active, revoked or expired, as of `now`. */
export function tokenState(t: Token, now: Date): string {
  if (t.status?.revokedAt) return 'revoked';
  if (t.spec.expiresAt && Date.parse(t.spec.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

function subjectOf(t: Token): string {
  if (t.spec.type === 'user') return t.spec.user ?? '';
  if (t.spec.type === 'node') return `node/${t.spec.node ?? ''}`;
  return `join (${t.spec.usesLeft ?? '∞'} uses left)`;
}

export function tokenTable(tokens: readonly Token[], now: Date): string {
  const rows = [...tokens]
    .sort((a, b) => a.metadata.createdAt.localeCompare(b.metadata.createdAt))
    .map((t) => [
      t.metadata.name,
      t.spec.type,
      subjectOf(t),
      t.spec.role ?? '-',
      t.spec.namespaces?.join(',') ?? '-',
      t.spec.expiresAt ?? 'never',
      tokenState(t, now),
      formatAge(t.metadata.createdAt, now),
    ]);
  return formatTable(['ID', 'TYPE', 'SUBJECT', 'ROLE', 'NAMESPACES', 'EXPIRES', 'STATE', 'AGE'], rows);
}

export function tokenCommand(ctx: CliContext) {
  const token = new Command('token').description("people's API tokens: create, list, revoke (cluster administrators)");
  token
    .command('create')
    .description("create a person's token; prints it once on stdout")
    .requiredOption('--user <name>', 'who holds it (shown in audit lines and 403s)')
    .requiredOption('--role <role>', `one of ${PERSON_ROLES.join(', ')}`)
    .option('-n, --namespace <ns>', "where the role applies; repeat or comma-separate; '*' for every namespace", collect, [] as string[])
    .option('--ttl <duration>', 'expire after 90m, 12h, 30d, 2w (default: never)')
    .action(async (opts, cmd) => {
      const role = parseRole(opts.role);
      if (opts.namespace.length === 0) throw new UsageError("--namespace is required: name the namespaces the role applies in, or '*' for every namespace");
      const ttlSeconds = opts.ttl === undefined ? undefined : parseTtl(opts.ttl);
      const client = await clientFor(ctx, cmd);
      const { token: secret, object } = await client.issueToken({ type: 'user', user: opts.user, role, namespaces: opts.namespace, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
      const where = object.spec.namespaces?.includes('*') ? 'every namespace' : `namespace ${object.spec.namespaces?.join(', ') ?? ''}`;
      const expiry = object.spec.expiresAt ? `, expires ${object.spec.expiresAt}` : '';
      ctx.stderr(`token/${object.metadata.name} created: user ${opts.user}, role ${role} in ${where}${expiry}\n`);
      ctx.stderr('It is shown only now: keep it in a file only its holder can read, and use it with GANTRY_TOKEN or --token-file.\n');
      ctx.stdout(`${secret}\n`);
    });
  token
    .command('list')
    .description('every token: id, type, subject, role, namespaces, expiry, state (never the secret)')
    .action(async (_opts, cmd) => {
      const client = await clientFor(ctx, cmd);
      const { items } = await client.list('Token');
      ctx.stdout(items.length === 0 ? 'No tokens.\n' : tokenTable(items, ctx.now()));
    });
  token
    .command('revoke')
    .description('revoke a token at once: its next request is refused')
    .argument('<id>', 'the token id (gantry token list)')
    .action(async (id, _opts, cmd) => {
      const client = await clientFor(ctx, cmd);
      const t = await client.revokeToken(id);
      ctx.stdout(`token/${t.metadata.name} revoked (at ${t.status?.revokedAt ?? '?'})\n`);
    });
  return token;
}
