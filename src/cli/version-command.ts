// `gantry version`: this CLI's version, and the server's when it answers.
import { Command } from '@commander-js/extra-typings';
import type { CliContext } from './context.js';
import { globalOptions, resolveConnection, resolveServer } from './global-options.js';
import { packageVersion } from './version-info.js';

export function versionCommand(ctx: CliContext) {
  return new Command('version')
    .description('print the client and server versions')
    .action(async (_opts, cmd) => {
      const g = globalOptions(cmd);
      ctx.stdout(`Client Version: ${packageVersion()}\nServer:         ${resolveServer(ctx, g)}\n`);
      const client = ctx.connect(await resolveConnection(ctx, g));
      const v = await client.version();
      ctx.stdout(`Server Version: ${v.version} (API ${v.apiVersion}, cluster ${v.clusterId}, revision ${v.revision})\n`);
    });
}
