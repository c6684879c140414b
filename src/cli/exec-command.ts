// `gantry exec INSTANCE [-c C] [-i] [-t] -- CMD...`: a process in a running container, as `docker
// exec` runs it. An authenticated POST gets a ticket; the WebSocket it opens carries the frames of
// docs/operate.md. With -t the local terminal is put in raw mode (Ctrl-C and Ctrl-D go to the
// remote process, as with `docker exec -it`) and follows window resizes. Stdin is forwarded with -i
// or when it is not a terminal (`echo hi | gantry exec i -- cat`); otherwise the process reads EOF.
// The exit code is the process's; a session that ends otherwise says why, with exit code 1.
import { Command } from '@commander-js/extra-typings';
import WebSocket, { type RawData } from 'ws';
import { DEFAULT_NAMESPACE, decodeExecFrame, encodeExecFrame, UsageError, type ExecFrame, type ExecStatus } from '../core/index.js';
import { refusalMessage } from '../runtime/ws-refusal.js';
import { CommandExit } from './cli-error.js';
import type { CliContext } from './context.js';
import { globalOptions, resolveConnection } from './global-options.js';

/** The process's terminal; a parameter so tests can drive a session without one. */
export interface ExecTerminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  on(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  off(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
}

/** The WebSocket URL of a session: the server's origin, the path the POST answered, the ticket. */
export function sessionUrl(server: string, path: string, ticket: string, size?: { cols: number; rows: number }): URL {
  const url = new URL(path, server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('ticket', ticket);
  if (size) {
    url.searchParams.set('cols', String(size.cols));
    url.searchParams.set('rows', String(size.rows));
  }
  return url;
}

/** What the CLI says when a session ended without an exit code. */
export function endMessage(status: ExecStatus | undefined, closeReason: string): string {
  if (!status) return `the exec session ended without an exit status${closeReason ? ` (${closeReason})` : ''}: the server or agent went away`;
  if (status.reason === 'exited') return '';
  const what = { error: 'exec failed', 'instance-gone': 'the instance is gone', 'agent-lost': "the node's agent was lost", 'idle-timeout': 'the session was idle too long' }[status.reason];
  return `${what}: ${status.message}`;
}

export function execCommand(ctx: CliContext, term: ExecTerminal = process) {
  return new Command('exec')
    .description('run a command in a container of an instance: exec INSTANCE [-c C] [-it] -- CMD...')
    .argument('<instance>', 'the instance name (see `gantry get instances`)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'the container, when the instance has several (default: the first)')
    .option('-i, --stdin', 'forward stdin (on by default when stdin is not a terminal)')
    .option('-t, --tty', 'a pseudo-terminal (raw mode; Ctrl-C and Ctrl-D go to the process)')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (instance, command, opts, cmd) => {
      const tty = Boolean(opts.tty);
      if (tty && !term.stdin.isTTY) throw new UsageError('-t needs a terminal on stdin; drop -t to pipe input (echo hi | gantry exec INSTANCE -- cat)');
      const forwardStdin = Boolean(opts.stdin) || !term.stdin.isTTY;
      const conn = await resolveConnection(ctx, globalOptions(cmd));
      const client = ctx.connect(conn);
      const answer = await client.execTicket(opts.namespace, instance, { command, ...(opts.container ? { container: opts.container } : {}), tty, stdin: true });
      const size = tty && term.stdout.columns && term.stdout.rows ? { cols: term.stdout.columns, rows: term.stdout.rows } : undefined;
      const code = await runSession(sessionUrl(conn.server, answer.path, answer.ticket, size), { ca: conn.ca, tty, forwardStdin, term });
      if (code !== 0) throw new CommandExit(code);
    });
}

interface SessionOptions {
  ca: string | undefined;
  tty: boolean;
  forwardStdin: boolean;
  term: ExecTerminal;
}

/** Runs one session to its end; resolves with the exit code to leave with. */
export function runSession(url: URL, o: SessionOptions): Promise<number> {
  const { term } = o;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...(o.ca ? { ca: o.ca } : {}), handshakeTimeout: 15_000, maxPayload: 16 * 1024 * 1024 });
    let status: ExecStatus | undefined;
    let raw = false;
    let settled = false;
    const send = (frame: ExecFrame): void => {
      if (ws.readyState === ws.OPEN) ws.send(encodeExecFrame(frame), { binary: true });
    };
    const onData = (chunk: Buffer): void => send({ channel: 0, data: chunk });
    const onEnd = (): void => send({ channel: 0, data: new Uint8Array(0) });
    const onResize = (): void => {
      if (term.stdout.columns && term.stdout.rows) send({ channel: 4, size: { cols: term.stdout.columns, rows: term.stdout.rows } });
    };
    // Without a TTY, Ctrl-C ends the session here (the agent kills the process), as with docker exec.
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
      ws.close(1000, 'interrupted');
    };
    const pinger = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), 20_000);
    const finish = (code: number, message: string): void => {
      if (settled) return;
      settled = true;
      clearInterval(pinger);
      term.stdin.off('data', onData);
      term.stdin.off('end', onEnd);
      term.stdout.off('resize', onResize);
      term.off('SIGINT', onSignal);
      term.off('SIGTERM', onSignal);
      if (raw) term.stdin.setRawMode(false);
      term.stdin.pause();
      if (message) term.stderr.write(`${raw ? '\r\n' : ''}error: ${message}\n`);
      resolve(code);
    };
    ws.on('open', () => {
      if (o.tty) {
        term.stdin.setRawMode(true);
        raw = true;
        term.stdout.on('resize', onResize);
      } else {
        term.on('SIGINT', onSignal);
        term.on('SIGTERM', onSignal);
      }
      if (o.forwardStdin) {
        term.stdin.on('data', onData);
        term.stdin.on('end', onEnd);
        term.stdin.resume();
      } else {
        onEnd();
      }
    });
    ws.on('message', (data: RawData) => {
      let frame: ExecFrame;
      try {
        frame = decodeExecFrame(new Uint8Array(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)));
      } catch (e) {
        return finish(1, `the server sent a frame this CLI cannot read: ${(e as Error).message}`);
      }
      if (frame.channel === 1) term.stdout.write(frame.data);
      else if (frame.channel === 2) term.stderr.write(frame.data);
      else if (frame.channel === 3) status = frame.status;
    });
    ws.on('unexpected-response', (_req, res) => {
      void refusalMessage(res).then((message) => {
        finish(1, `the server refused the exec session (HTTP ${res.statusCode}): ${message}`);
        ws.terminate();
      });
    });
    let failure: string | undefined;
    ws.on('close', (_code, reason) => {
      if (status?.reason === 'exited') return finish(status.exitCode, '');
      if (interrupted && !status) return finish(130, '');
      if (!status && failure) return finish(1, `the exec session at ${url.origin} failed: ${failure}`);
      finish(1, endMessage(status, reason.toString('utf8')));
    });
    ws.on('error', (e) => (failure = e.message));
  });
}
