// The process logger of `gantry up|server|agent|sim`: pino, one event per line, to stderr or to
// `<data dir>/gantry.log`. On a terminal the lines are readable text (log-format.ts); in a file, a
// pipe or with `--log-format json` they are pino's JSON. Commands that only talk to the API do not log.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { UsageError } from '../core/index.js';
import { LOG_FORMATS, prettyDestination, type LogFormat } from './log-format.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function logLevelFrom(env: Readonly<Record<string, string | undefined>>): string {
  const level = env.GANTRY_LOG_LEVEL?.toLowerCase();
  return level && (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
}

export function parseLogFormat(text: string | undefined): LogFormat | undefined {
  if (text === undefined) return undefined;
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw new UsageError(`--log-format must be json or pretty, not "${text}"`);
}

/** Pretty only when asked, or by default when the lines go to a terminal. */
export function chooseLogFormat(asked: LogFormat | undefined, toFile: boolean, stderrIsTTY: boolean): LogFormat {
  return asked ?? (!toFile && stderrIsTTY ? 'pretty' : 'json');
}

export function createLogger(opts: { level: string; dataDir: string; toFile: boolean; format?: LogFormat | undefined }): Logger {
  const dest = opts.toFile
    ? pino.destination({ dest: join(opts.dataDir, 'gantry.log'), mkdir: true, sync: false })
    : pino.destination({ dest: 2, sync: true });
  const format = chooseLogFormat(opts.format, opts.toFile, process.stderr.isTTY);
  const colored = format === 'pretty' && !opts.toFile && process.stderr.isTTY && !process.env.NO_COLOR;
  return pino({ level: opts.level, base: { pid: process.pid } }, format === 'pretty' ? prettyDestination(dest, colored) : dest);
}
