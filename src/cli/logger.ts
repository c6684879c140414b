// The process logger of `gantry up|server|agent`: pino, one JSON line per event, to stderr or to
// `<data dir>/gantry.log`. Commands that only talk to the API do not log.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function logLevelFrom(env: Readonly<Record<string, string | undefined>>): string {
  const level = env.GANTRY_LOG_LEVEL?.toLowerCase();
  return level && (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
}

export function createLogger(opts: { level: string; dataDir: string; toFile: boolean }): Logger {
  const dest = opts.toFile
    ? pino.destination({ dest: join(opts.dataDir, 'gantry.log'), mkdir: true, sync: false })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level: opts.level, base: { pid: process.pid } }, dest);
}
