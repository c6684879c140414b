// How the CLI reports a failure: `error: <message>`, then field details one per line, and a
// stack trace only when GANTRY_DEBUG=1. Network failures get a hint instead of "fetch failed".
import { describeError } from '../core/index.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN']);

function networkCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
  }
  return undefined;
}

/** The text printed to stderr for `e` (ends with a newline). */
export function formatCliError(e: unknown, opts: { debug: boolean; server?: string | undefined }): string {
  const code = networkCode(e);
  let text: string;
  if (code) {
    const where = opts.server ? ` at ${opts.server}` : '';
    text = `cannot reach the Gantry server${where} (${code}): start it with \`npm run up\`, or pass --server / GANTRY_ADDR`;
  } else {
    text = describeError(e);
  }
  let out = `error: ${text}\n`;
  if (opts.debug && e instanceof Error && e.stack) out += `${e.stack}\n`;
  return out;
}

export function isDebug(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.GANTRY_DEBUG === '1' || env.GANTRY_DEBUG === 'true';
}

/** Ends the command with exit code 1 after the command has already printed what went wrong. */
export class ReportedFailure extends Error {
  override readonly name = 'ReportedFailure';
  constructor(message = 'the command failed; see the messages above') {
    super(message);
  }
}

/** Ends the command with this exit code and nothing more printed (`gantry exec` passes the process's code through). */
export class CommandExit extends Error {
  override readonly name = 'CommandExit';
  constructor(readonly code: number) {
    super(`exit code ${code}`);
  }
}
