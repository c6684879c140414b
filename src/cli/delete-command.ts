// `gantry delete KIND NAME`.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { kindHelp, objectRef, resolveKindArg } from './kind-arg.js';

export function deleteCommand(ctx: CliContext) {
  return new Command('delete')
    .description('delete an object (an instance is replaced by its service)')
    .argument('<kind>', kindHelp((k) => k.userWritable || k.kind === 'Instance'))
    .argument('<name>', 'the object name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (kindWord, name, opts, cmd) => {
      const info = resolveKindArg(kindWord);
      const client = await clientFor(ctx, cmd);
      await client.delete(info.kind, info.namespaced ? opts.namespace : undefined, name);
      ctx.stdout(`${objectRef(info.kind, name)} deleted\n`);
    });
}
