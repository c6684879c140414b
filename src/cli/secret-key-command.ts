// `gantry secret-key rotate`: the server makes a new Secret encryption key, seals every stored
// Secret with it (objects and watch history) and drops the old keys from <data dir>/secret.key.
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../core/index.js';
import { println, type CliContext } from './context.js';
import { clientFor } from './global-options.js';

export function secretKeyCommand(ctx: CliContext) {
  return new Command('secret-key')
    .description('the key that encrypts Secret data in the state file: rotate makes a new one and seals every Secret with it (cluster administrators)')
    .argument('<action>', 'rotate')
    .action(async (action, _opts, cmd) => {
      if (action !== 'rotate') throw new UsageError(`unknown secret-key action "${action}": use rotate`);
      const r = await (await clientFor(ctx, cmd)).rotateSecretKey();
      println(ctx, r.message);
    });
}
