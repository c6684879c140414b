// Options shared by the long-running commands (up, server, agent): logging and node identity.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { parseDuration, parseLabelList, UsageError } from '../core/index.js';
import type { CliContext } from './context.js';
import { nodeNameFromHostname } from './node-name.js';

/**
 * `--log-file` and `--log-format json|pretty` (default: pretty on a terminal, else JSON). pino is
 * loaded here, not at the top: commands that only talk to the API do not log.
 */
export async function processLogger(ctx: CliContext, dataDir: string, opts: { logFile?: boolean | undefined; logFormat?: string | undefined }): Promise<Logger> {
  const { createLogger, logLevelFrom, parseLogFormat } = await import('./logger.js');
  return createLogger({ level: logLevelFrom(ctx.env), dataDir, toFile: Boolean(opts.logFile), format: parseLogFormat(opts.logFormat) });
}

export function parseLabelsOption(text: string | undefined): Record<string, string> {
  if (!text) return {};
  try {
    return parseLabelList(text);
  } catch (e) {
    throw new UsageError(`--labels: ${(e as Error).message} (e.g. rack=a,pool=web)`);
  }
}

export function nodeNameOption(name: string | undefined): string {
  return name ?? nodeNameFromHostname(hostname());
}

export function durationOption(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${what} must be a duration like 15s or 1m, not "${text}"`);
  return ms;
}
