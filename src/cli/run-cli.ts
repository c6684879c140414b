// Runs one `gantry` invocation and returns its exit code. Errors become `error: ...` on stderr;
// a stack trace only with GANTRY_DEBUG=1.
import { CommanderError } from '@commander-js/extra-typings';
import { CommandExit, formatCliError, isDebug, ReportedFailure } from './cli-error.js';
import type { CliContext } from './context.js';
import { globalOptions, resolveServer } from './global-options.js';
import { buildProgram } from './program.js';

export async function runCli(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const program = await buildProgram(ctx, argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    // Commander has already printed its own usage errors (and help, which exits 0).
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ReportedFailure) return 1;
    if (e instanceof CommandExit) return e.code;
    const server = resolveServer(ctx, globalOptions(program));
    ctx.stderr(formatCliError(e, { debug: isDebug(ctx.env), server }));
    return 1;
  }
}
