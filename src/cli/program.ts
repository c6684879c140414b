// The `gantry` command tree. Every command gets the same CliContext; nothing here touches
// process globals, so tests run the real parser against fakes.
import { Command } from '@commander-js/extra-typings';
import { agentCommand } from './agent-command.js';
import { applyCommand } from './apply-command.js';
import type { CliContext } from './context.js';
import { completeCommand, completionCommand } from './completion-command.js';
import { cronJobCommand } from './cronjob-command.js';
import { deleteCommand } from './delete-command.js';
import { describeCommand } from './describe-command.js';
import { endpointsCommand } from './endpoints-command.js';
import { eventsCommand } from './events-command.js';
import { getCommand } from './get-command.js';
import { logsCommand } from './logs-command.js';
import { nodeCommand } from './node-command.js';
import { rolloutCommand } from './rollout-command.js';
import { scaleCommand } from './scale-command.js';
import { serverCommand } from './server-command.js';
import { simCommand } from './sim-command.js';
import { stopCommand } from './stop-command.js';
import { upCommand } from './up-command.js';
import { packageVersion } from './version-info.js';
import { versionCommand } from './version-command.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('gantry')
    .description('Gantry: a private container cloud for a fleet of Docker hosts')
    .version(packageVersion(), '-V, --version', 'print the client version')
    .option('--server <url>', 'API address (env GANTRY_ADDR, default http://127.0.0.1:7070)')
    .option('--token <token>', 'API token (env GANTRY_TOKEN, default <data dir>/admin.token)')
    .option('--data-dir <dir>', 'data directory (env GANTRY_HOME, default ~/.gantry)')
    .configureOutput({ writeOut: (s) => ctx.stdout(s), writeErr: (s) => ctx.stderr(s) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const make of [upCommand, serverCommand, agentCommand, applyCommand, getCommand, describeCommand, logsCommand, endpointsCommand, scaleCommand, rolloutCommand, stopCommand, deleteCommand, versionCommand, simCommand, cronJobCommand, nodeCommand, eventsCommand]) {
    const sub = make(ctx) as unknown as Command;
    // Subcommands report usage errors through the same output and exit path as the program.
    sub.configureOutput({ writeOut: (s) => ctx.stdout(s), writeErr: (s) => ctx.stderr(s) }).showHelpAfterError('(run with --help for usage)').exitOverride();
    program.addCommand(sub);
  }
  program.addCommand(completionCommand(ctx));
  const visible = () => program.commands.map((c) => c.name()).filter((n) => !n.startsWith('__'));
  program.addCommand(completeCommand(ctx, visible), { hidden: true });
  return program;
}
