// Global options and how they resolve: a flag wins over the environment, which wins over the
// default. The token falls back to the file `gantry up` writes, so a local user needs no flags.
import { join } from 'node:path';
import { UnauthorizedError, UsageError } from '../core/index.js';
import type { GantryClient } from '../client/types.js';
import type { CliContext, Connection } from './context.js';

const DEFAULT_SERVER = 'https://127.0.0.1:7070';

export interface GlobalOptions {
  server?: string | undefined;
  token?: string | undefined;
  tokenFile?: string | undefined;
  dataDir?: string | undefined;
  ca?: string | undefined;
}

export const NO_TOKEN_MESSAGE = 'no token: start Gantry with `npm run up`, or set GANTRY_TOKEN or pass --token-file';

/** Reads the global options of any (sub)command without trusting their types. */
export function globalOptions(cmd: { optsWithGlobals(): unknown }): GlobalOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return { server: str(o.server), token: str(o.token), tokenFile: str(o.tokenFile), dataDir: str(o.dataDir), ca: str(o.ca) };
}

export function resolveDataDir(ctx: CliContext, g: GlobalOptions): string {
  const dir = g.dataDir ?? (ctx.env.GANTRY_HOME || undefined) ?? join(ctx.homeDir, '.gantry');
  return dir.startsWith('~/') ? join(ctx.homeDir, dir.slice(2)) : dir;
}

export function resolveServer(ctx: CliContext, g: GlobalOptions): string {
  return (g.server ?? (ctx.env.GANTRY_ADDR || undefined) ?? DEFAULT_SERVER).replace(/\/+$/, '');
}

/**
 * `--token`, then `--token-file` / GANTRY_TOKEN_FILE, then GANTRY_TOKEN, then `<data dir>/admin.token`
 * (joining agents and gantry sim: `join.token`).
 */
export async function resolveToken(ctx: CliContext, g: GlobalOptions, fileName = 'admin.token'): Promise<string> {
  if (g.token) return g.token;
  const given = g.tokenFile ?? (ctx.env.GANTRY_TOKEN_FILE || undefined);
  if (given === undefined && ctx.env.GANTRY_TOKEN) return ctx.env.GANTRY_TOKEN;
  const file = given ?? join(resolveDataDir(ctx, g), fileName);
  let text: string;
  try {
    text = await ctx.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && given === undefined) throw new UnauthorizedError(NO_TOKEN_MESSAGE);
    throw new UnauthorizedError(`cannot read the token file ${file}: ${(e as Error).message}; set GANTRY_TOKEN or pass --token-file instead`);
  }
  const token = text.trim();
  if (!token) throw new UnauthorizedError(`the token file ${file} is empty: ${NO_TOKEN_MESSAGE}`);
  return token;
}

/**
 * The cluster CA the client checks https:// servers against: `--ca FILE`, then GANTRY_CA, then
 * `<data dir>/tls/ca.crt` when the server made one there; undefined when none (the system's roots).
 * A file named by the flag or the variable must be readable.
 */
export async function resolveCa(ctx: CliContext, g: GlobalOptions): Promise<string | undefined> {
  const named = g.ca ?? (ctx.env.GANTRY_CA || undefined);
  const file = named ?? join(resolveDataDir(ctx, g), 'tls', 'ca.crt');
  let text: string;
  try {
    text = await ctx.readFile(file);
  } catch (e) {
    if (named === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read the CA certificate ${file} (${g.ca ? '--ca' : named ? 'GANTRY_CA' : 'the data dir'}): ${(e as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${file} is not a PEM certificate: give the cluster's ca.crt (from the server's <data dir>/tls/)`);
  return text;
}

export async function resolveConnection(ctx: CliContext, g: GlobalOptions): Promise<Connection> {
  const ca = await resolveCa(ctx, g);
  return { server: resolveServer(ctx, g), token: await resolveToken(ctx, g), ...(ca ? { ca } : {}) };
}

/** Resolves the connection of a subcommand and builds its client. */
export async function clientFor(ctx: CliContext, cmd: { optsWithGlobals(): unknown }): Promise<GantryClient> {
  return ctx.connect(await resolveConnection(ctx, globalOptions(cmd)));
}
