// `gantry cronjob trigger|suspend|resume NAME`.
import { Command } from '@commander-js/extra-typings';
import type { CronJobAction } from '../client/types.js';
import { DEFAULT_NAMESPACE, UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';

const ACTIONS: Record<CronJobAction, string> = {
  trigger: 'run one Job now (named <cronjob>-manual-<unix ms>)',
  suspend: 'stop scheduling new runs (running Jobs go on)',
  resume: 'schedule runs again',
};

export function cronJobCommand(ctx: CliContext) {
  return new Command('cronjob')
    .description('act on a cron job: trigger | suspend | resume')
    .argument('<action>', Object.entries(ACTIONS).map(([a, what]) => `${a}: ${what}`).join('; '))
    .argument('<name>', 'the cron job name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (action, name, opts, cmd) => {
      if (!(action in ACTIONS)) throw new UsageError(`unknown action "${action}"; use one of ${Object.keys(ACTIONS).join(', ')}`);
      const client = await clientFor(ctx, cmd);
      const obj = await client.cronJobAction(opts.namespace, name, action as CronJobAction);
      if (action === 'trigger') ctx.stdout(`job/${obj.metadata.name} created\n`);
      else ctx.stdout(`cronjob/${name} ${action === 'suspend' ? 'suspended' : 'resumed'}\n`);
    });
}
