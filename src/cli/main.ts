// Entry point of the `gantry` binary (bin/gantry imports the built copy of this file).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { text } from 'node:stream/consumers';
import { createHttpClient } from '../client/http-client.js';
import type { CliContext } from './context.js';
import { runCli } from './run-cli.js';

// `gantry get events | head -1`: the reader has gone, which is no failure of ours. Exit quietly, as
// every Unix tool does, instead of crashing on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const ctx: CliContext = {
  env: process.env,
  homeDir: homedir(),
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readStdin: () => text(process.stdin),
  readFile: (path) => readFile(path, 'utf8'),
  now: () => new Date(),
  connect: (conn) => createHttpClient({ server: conn.server, token: conn.token, ca: conn.ca }),
};

const code = await runCli(ctx, process.argv.slice(2));
process.exitCode = code;
// Every part closes what it owns; this only guards against a stray keep-alive socket holding the
// process open after a command has finished. unref(): it never delays a clean exit.
setTimeout(() => process.exit(code), 2000).unref();
