// What every command needs from the outside world, passed in so commands stay testable: the
// environment, output streams, stdin, the clock and a way to build an API client.
import type { GantryClient } from '../client/types.js';

export interface Connection {
  server: string;
  token: string;
  /** The cluster CA certificate (PEM) for https:// servers; absent: the system's roots. */
  ca?: string | undefined;
}

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** Writes text as is (no newline added). */
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  now(): Date;
  connect(conn: Connection): GantryClient;
}

/** Writes one line to stdout. */
export function println(ctx: CliContext, line = ''): void {
  ctx.stdout(`${line}\n`);
}
