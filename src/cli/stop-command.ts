// `gantry stop instance NAME [--reason TEXT]`: the graceful stop (not ready, drain, signal, grace, kill).
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE, UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { objectRef, resolveKindArg } from './kind-arg.js';

export function stopCommand(ctx: CliContext) {
  return new Command('stop')
    .description("stop an instance gracefully: not ready first, then its drain delay, stop signal and grace period")
    .argument('<kind>', 'instance')
    .argument('<name>', 'the instance name')
    .option('--reason <text>', 'why, for events and status')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (kindWord, name, opts, cmd) => {
      const info = resolveKindArg(kindWord);
      if (info.kind !== 'Instance') throw new UsageError(`only instances can be stopped, not ${info.plural}; to stop a service, scale it to 0`);
      const client = await clientFor(ctx, cmd);
      const inst = await client.stopInstance(opts.namespace, name, opts.reason);
      ctx.stdout(`${objectRef('Instance', inst.metadata.name)} stopping (${inst.spec.stop?.reason ?? 'requested'})\n`);
    });
}
