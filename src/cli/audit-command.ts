// `gantry audit [--user U] [--since 1h] [--limit N] [-o json]`: the server's audit log (writes,
// log and Secret reads, refusals), oldest first; cluster administrators only.
import { Command } from '@commander-js/extra-typings';
import { parseDuration, UsageError, type AuditEntry } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { parseCount } from './parse-count.js';
import { formatTable } from './table.js';

function objectOf(e: AuditEntry): string {
  if (!e.kind) return e.path;
  const where = e.namespace ? `${e.namespace}/` : '';
  return `${e.kind.toLowerCase()}/${where}${e.name ?? '*'}`;
}

export function auditTable(items: readonly AuditEntry[]): string {
  return formatTable(
    ['TIME', 'USER', 'VERB', 'OBJECT', 'STATUS', 'FROM'],
    items.map((e) => [e.time, e.user, e.verb, objectOf(e), String(e.status), e.remote]),
  );
}

export function auditCommand(ctx: CliContext) {
  return new Command('audit')
    .description('the audit log: who wrote, read logs or Secrets, or was refused; oldest first')
    .option('--user <user>', 'only this user (alice, admin, node/NAME)')
    .option('--since <duration>', 'only the last 30m, 1h, 24h ...')
    .option('--limit <n>', 'the newest N entries', '1000')
    .option('-o, --output <format>', 'json: one entry per line as stored')
    .action(async (opts, cmd) => {
      let since: string | undefined;
      if (opts.since !== undefined) {
        const ms = parseDuration(opts.since);
        if (ms === undefined) throw new UsageError(`--since must be a duration like 30m, 1h or 24h, not "${opts.since}"`);
        since = new Date(ctx.now().getTime() - ms).toISOString();
      }
      if (opts.output !== undefined && opts.output !== 'json') throw new UsageError(`unknown output format "${opts.output}": use json`);
      const limit = parseCount(opts.limit, '--limit');
      const client = await clientFor(ctx, cmd);
      const items = await client.audit({ user: opts.user, since, limit });
      if (opts.output === 'json') ctx.stdout(items.map((e) => `${JSON.stringify(e)}\n`).join(''));
      else ctx.stdout(items.length === 0 ? 'No audit entries.\n' : auditTable(items));
    });
}
