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
      t.status?.lastUsedAt ? `${formatAge(t.status.lastUsedAt, now)} ago` : '-',
      formatAge(t.metadata.createdAt, now),
    ]);
  return formatTable(['ID', 'TYPE', 'SUBJECT', 'ROLE', 'NAMESPACES', 'EXPIRES', 'STATE', 'LAST USED', 'AGE'], rows);
}

export function tokenCommand(ctx: CliContext) {
  const token = new Command('token').description("people's API tokens: create, list, revoke (cluster administrators)");
  token
    .command('create')
    .description("create a person's token (--user, --role, --namespace) or a join token for agents (--join); prints it once on stdout")
    .option('--user <name>', 'who holds it (shown in audit lines and 403s)')
    .option('--role <role>', `one of ${PERSON_ROLES.join(', ')}`)
    .option('-n, --namespace <ns>', "where the role applies; repeat or comma-separate; '*' for every namespace", collect, [] as string[])
    .option('--join', 'a join token for agents (gantry agent --join SERVER): GTJ-1-<CA fingerprint>-...; default --ttl 1h, --uses 1')
    .option('--uses <n>', 'with --join: how many nodes may join with it (default 1)')
    .option('--ttl <duration>', 'expire after 90m, 12h, 30d, 2w (default: never; join tokens 1h)')
    .action(async (opts, cmd) => {
      const ttlSeconds = opts.ttl === undefined ? undefined : parseTtl(opts.ttl);
      if (opts.join) {
        if (opts.user !== undefined || opts.role !== undefined || opts.namespace.length > 0) throw new UsageError('--join makes a join token for agents: it takes no --user, --role or --namespace');
        const uses = opts.uses === undefined ? undefined : Number(opts.uses);
        if (uses !== undefined && (!Number.isInteger(uses) || uses < 1)) throw new UsageError(`--uses must be a whole number above 0, not "${opts.uses ?? ''}"`);
        const client = await clientFor(ctx, cmd);
        const { token: secret, object } = await client.createJoinToken({ ...(ttlSeconds !== undefined ? { ttlSeconds } : {}), ...(uses !== undefined ? { uses } : {}) });
        ctx.stderr(`token/${object.metadata.name} created: join token for ${object.spec.usesLeft ?? 1} node${object.spec.usesLeft === 1 ? '' : 's'}, expires ${object.spec.expiresAt ?? 'never'}\n`);
        ctx.stderr('It is shown only now. On the agent host: put it in a file only root reads, then gantry agent --join SERVER --token-file FILE (or GANTRY_TOKEN).\n');
        ctx.stdout(`${secret}\n`);
        return;
      }
      if (opts.uses !== undefined) throw new UsageError('--uses goes with --join');
      if (opts.user === undefined || opts.role === undefined) throw new UsageError("a person's token needs --user and --role (or make a join token with --join)");
      const role = parseRole(opts.role);
      if (opts.namespace.length === 0) throw new UsageError("--namespace is required: name the namespaces the role applies in, or '*' for every namespace");
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
