// One command in a running container: create the exec, start it hijacked, demultiplex stdout and
// stderr (docker-modem), then read the exit code. Docker cannot kill an exec, so a timeout only
// stops waiting; the process may run on inside the container.
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError, NotFoundError, UnavailableError } from '../../core/index.js';
import { dockerReason, dockerStatus } from './docker-errors.js';
import type { ExecResult } from '../driver.js';

/** Output kept per exec; health checks need the tail, not megabytes. */
const MAX_OUTPUT = 64 * 1024;

function waitForEnd(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

async function exitCodeOf(exec: Docker.Exec, signal: AbortSignal): Promise<number> {
  // The stream can close a moment before dockerd records the exit code.
  for (let attempt = 0; ; attempt++) {
    const info = await exec.inspect({ abortSignal: signal });
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (attempt >= 50) return info.ExitCode ?? -1;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runExec(
  docker: Docker,
  id: string,
  command: readonly string[],
  timeoutMs: number,
  owner: AbortSignal,
): Promise<ExecResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, owner]);
  let output = '';
  try {
    const exec = await docker.getContainer(id).exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true, Tty: false, abortSignal: signal });
    const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal });
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    });
    docker.modem.demuxStream(stream, sink, sink);
    await waitForEnd(stream, signal);
    // Let the sink hand over what demuxStream wrote before the source ended.
    const drained = once(sink, 'end');
    sink.end();
    await drained;
    return { exitCode: await exitCodeOf(exec, signal), output };
  } catch (e) {
    if (timeout.aborted) {
      throw new UnavailableError(`exec ${JSON.stringify(command.join(' '))} in container ${id.slice(0, 12)} timed out after ${timeoutMs}ms; output so far: ${output.slice(-200)}`);
    }
    const status = dockerStatus(e);
    if (status === 404) throw new NotFoundError('container', undefined, id, `container ${id.slice(0, 12)} not found: ${dockerReason(e)}`);
    if (status === 409) throw new ConflictError(`cannot exec in container ${id.slice(0, 12)}: ${dockerReason(e)}; start it first`);
    throw e;
  }
}
