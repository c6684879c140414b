// `gantry auth whoami` and `gantry auth can-i VERB KIND [-n NS | -A]` (as kubectl auth can-i):
// the server answers both from the policies it enforces.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE } from '../core/index.js';
import { ReportedFailure } from './cli-error.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';

export function authCommand(ctx: CliContext) {
  const auth = new Command('auth').description('who your token stands for, and what it may do');
  auth
    .command('whoami')
    .description('the user, role and namespaces of the token (or admin, or a node)')
    .option('-o, --output <format>', 'json')
    .action(async (opts, cmd) => {
      const client = await clientFor(ctx, cmd);
      const me = await client.whoami();
      if (opts.output === 'json') {
        ctx.stdout(`${JSON.stringify(me, null, 2)}\n`);
        return;
      }
      const p = me.principal;
      const id = p.kind === 'admin' ? '' : `, token ${p.tokenId}`;
      ctx.stdout(`${me.description}${id}${me.expiresAt ? `, expires ${me.expiresAt}` : ''}\n`);
    });
  auth
    .command('can-i')
    .description('whether the token may do VERB on KIND: prints yes (exit 0) or no and why (exit 1)')
    .argument('<verb>', 'get, list, watch, create, apply, delete, scale, rollout, stop, logs, trigger, suspend, resume, cordon, uncordon, drain, revoke')
    .argument('<kind>', 'service, secret, node, token, ...')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .option('-A, --all-namespaces', 'in every namespace')
    .action(async (verb, kind, opts, cmd) => {
      const client = await clientFor(ctx, cmd);
      const answer = await client.canI(verb, kind, opts.allNamespaces ? '*' : opts.namespace);
      if (answer.allowed) {
        ctx.stdout('yes\n');
        return;
      }
      ctx.stdout(`no: ${answer.reason}\n`);
      throw new ReportedFailure();
    });
  return auth;
}
