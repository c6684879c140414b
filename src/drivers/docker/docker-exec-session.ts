// An interactive exec (docs/operate.md): create the exec, start it hijacked with stdin, hand its
// output over as it comes (a TTY's raw stream as is; otherwise docker-modem's demuxStream splits
// stdout from stderr), resize the TTY, read the exit code when the stream ends. Docker cannot end
// an exec, so kill() signals the exec's process by the host PID that exec inspect reports.
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError, NotFoundError } from '../../core/index.js';
import { dockerReason, dockerStatus } from './docker-errors.js';
import type { ExecProcess, ExecSessionOptions } from '../driver.js';

async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  // The stream can close a moment before dockerd records the exit code.
  for (let attempt = 0; ; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (attempt >= 50) return info.ExitCode ?? -1;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function openDockerExec(docker: Docker, id: string, opts: ExecSessionOptions, signalProcess: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL')): Promise<ExecProcess> {
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await docker.getContainer(id).exec({
      Cmd: [...opts.command],
      AttachStdin: opts.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: opts.tty,
      ...(opts.tty && opts.cols && opts.rows ? { ConsoleSize: [opts.rows, opts.cols] } : {}),
    });
    stream = await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty });
  } catch (e) {
    const status = dockerStatus(e);
    if (status === 404) throw new NotFoundError('container', undefined, id, `container ${id.slice(0, 12)} not found: ${dockerReason(e)}`);
    if (status === 409) throw new ConflictError(`cannot exec in container ${id.slice(0, 12)}: ${dockerReason(e)}; it is not running`);
    throw e;
  }
  const listeners: ((stream: 1 | 2, data: Uint8Array) => void)[] = [];
  const early: [1 | 2, Uint8Array][] = [];
  const emit = (which: 1 | 2, data: Uint8Array): void => {
    if (listeners.length === 0) early.push([which, data]);
    for (const l of listeners) l(which, data);
  };
  let ended: Promise<void>;
  if (opts.tty) {
    stream.on('data', (chunk: Buffer) => emit(1, chunk));
    ended = new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
  } else {
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (chunk: Buffer) => emit(1, chunk));
    err.on('data', (chunk: Buffer) => emit(2, chunk));
    docker.modem.demuxStream(stream, out, err);
    ended = new Promise((resolve) => {
      const done = (): void => {
        // demuxStream writes synchronously as it parses: what it had is in out/err by now.
        out.end();
        err.end();
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
  }
  if (opts.tty && opts.cols && opts.rows) await exec.resize({ h: opts.rows, w: opts.cols }).catch(() => undefined);
  const exited = ended.then(() => exitCodeOf(exec));
  // An unawaited rejection must not take the agent down; callers await `exited` themselves.
  exited.catch(() => undefined);
  let stdinOpen = opts.stdin;
  return {
    onOutput(listener) {
      listeners.push(listener);
      for (const [which, data] of early.splice(0)) listener(which, data);
    },
    write(data) {
      if (stdinOpen && !stream.destroyed) stream.write(data);
    },
    closeStdin() {
      if (!stdinOpen) return;
      stdinOpen = false;
      // Half-close: dockerd closes the process's stdin and keeps its output coming.
      if (!stream.destroyed) stream.end();
    },
    async resize(cols, rows) {
      if (opts.tty) await exec.resize({ h: rows, w: cols });
    },
    exited,
    async kill() {
      const info = await exec.inspect().catch(() => undefined);
      if (info?.Running && info.Pid > 0) {
        try {
          signalProcess(info.Pid);
        } catch {
          // Gone meanwhile, or dockerd runs elsewhere (no such PID here): nothing more we can do.
        }
      }
      stream.destroy();
    },
  };
}
