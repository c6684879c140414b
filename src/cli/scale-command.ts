// `gantry scale service NAME --replicas N`.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE, UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { objectRef, resolveKindArg } from './kind-arg.js';
import { parseCount } from './parse-count.js';

export function scaleCommand(ctx: CliContext) {
  return new Command('scale')
    .description('set the number of replicas of a service')
    .argument('<kind>', 'service')
    .argument('<name>', 'the service name')
    .requiredOption('--replicas <n>', 'the number of replicas')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (kindWord, name, opts, cmd) => {
      const info = resolveKindArg(kindWord);
      if (info.kind !== 'Service') throw new UsageError(`only services can be scaled, not ${info.plural}`);
      const replicas = parseCount(opts.replicas, '--replicas');
      const client = await clientFor(ctx, cmd);
      const svc = await client.scale(opts.namespace, name, replicas);
      ctx.stdout(`${objectRef('Service', svc.metadata.name)} scaled to ${svc.spec.replicas ?? replicas}\n`);
    });
}
