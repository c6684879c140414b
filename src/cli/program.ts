// The `gantry` command tree. Every command gets the same CliContext; nothing here touches
// process globals, so tests run the real parser against fakes.
//
// A command's module is loaded only when it runs: `gantry get services` loads get-command.ts and
// what it imports, not apply's YAML parser or describe's formatter (start time, issue 18). The
// whole tree is loaded when the words name no command (`gantry`, `gantry --help`, a typo), so the
// program's help and its "did you mean" list every command.
import { Command } from '@commander-js/extra-typings';
import type { CliContext } from './context.js';
import { completeCommand, completionCommand } from './completion-command.js';
import { packageVersion } from './version-info.js';

type CommandFactory = (ctx: CliContext) => unknown;

/** Every command, in the order `gantry --help` lists them, with how to load its module. */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<CommandFactory>]> = [
  ['up', async () => (await import('./up-command.js')).upCommand],
  ['server', async () => (await import('./server-command.js')).serverCommand],
  ['agent', async () => (await import('./agent-command.js')).agentCommand],
  ['apply', async () => (await import('./apply-command.js')).applyCommand],
  ['get', async () => (await import('./get-command.js')).getCommand],
  ['describe', async () => (await import('./describe-command.js')).describeCommand],
  ['logs', async () => (await import('./logs-command.js')).logsCommand],
  ['exec', async () => (await import('./exec-command.js')).execCommand],
  ['top', async () => (await import('./top-command.js')).topCommand],
  ['endpoints', async () => (await import('./endpoints-command.js')).endpointsCommand],
  ['scale', async () => (await import('./scale-command.js')).scaleCommand],
  ['rollout', async () => (await import('./rollout-command.js')).rolloutCommand],
  ['stop', async () => (await import('./stop-command.js')).stopCommand],
  ['delete', async () => (await import('./delete-command.js')).deleteCommand],
  ['version', async () => (await import('./version-command.js')).versionCommand],
  ['sim', async () => (await import('./sim-command.js')).simCommand],
  ['cronjob', async () => (await import('./cronjob-command.js')).cronJobCommand],
  ['node', async () => (await import('./node-command.js')).nodeCommand],
  ['events', async () => (await import('./events-command.js')).eventsCommand],
  ['token', async () => (await import('./token-command.js')).tokenCommand],
  ['auth', async () => (await import('./auth-command.js')).authCommand],
  ['audit', async () => (await import('./audit-command.js')).auditCommand],
  ['cert', async () => (await import('./cert-command.js')).certCommand],
  ['secret-key', async () => (await import('./secret-key-command.js')).secretKeyCommand],
  ['backup', async () => (await import('./backup-command.js')).backupCommand],
  ['restore', async () => (await import('./backup-command.js')).restoreCommand],
];

/** The program's own options that take a value (the next word is not a command). */
const GLOBAL_VALUE_OPTIONS = ['--server', '--token', '--token-file', '--data-dir', '--ca'];

/** The command the words run: the first word that is neither a global option nor its value. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let k = 0; k < argv.length; k++) {
    const word = argv[k]!;
    if (GLOBAL_VALUE_OPTIONS.includes(word)) k++;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}

/** Names of every user-visible command (for completion), without loading their modules. */
export const commandNames = (): string[] => [...COMMANDS.map(([name]) => name), 'completion'];

export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('gantry')
    .description('Gantry: a private container cloud for a fleet of Docker hosts')
    .version(packageVersion(), '-V, --version', 'print the client version')
    .option('--server <url>', 'API address (env GANTRY_ADDR, default https://127.0.0.1:7070)')
    .option('--token <token>', 'API token; visible to other users of the host, prefer GANTRY_TOKEN or --token-file (default <data dir>/admin.token)')
    .option('--token-file <file>', 'read the API token from this file (env GANTRY_TOKEN_FILE)')
    .option('--data-dir <dir>', 'data directory (env GANTRY_HOME, default ~/.gantry)')
    .option('--ca <file>', "the cluster CA certificate to trust (env GANTRY_CA, default <data dir>/tls/ca.crt)")
    .configureOutput({ writeOut: (s) => ctx.stdout(s), writeErr: (s) => ctx.stderr(s) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const word = commandWord(argv);
  const wanted = COMMANDS.some(([name]) => name === word) ? COMMANDS.filter(([name]) => name === word) : word === 'completion' || word === '__complete' ? [] : COMMANDS;
  for (const make of await Promise.all(wanted.map(([, load]) => load()))) {
    const sub = make(ctx) as Command;
    // Subcommands report usage errors through the same output and exit path as the program.
    sub.configureOutput({ writeOut: (s) => ctx.stdout(s), writeErr: (s) => ctx.stderr(s) }).showHelpAfterError('(run with --help for usage)').exitOverride();
    program.addCommand(sub);
  }
  program.addCommand(completionCommand(ctx));
  program.addCommand(completeCommand(ctx, commandNames), { hidden: true });
  return program;
}
