// Images are pulled only when absent: a node with no registry access still runs what it has.
import type Docker from 'dockerode';
import { AppError } from '../../core/index.js';
import { dockerReason, dockerStatus } from './docker-errors.js';

/** A pull that makes no progress for this long is given up (a registry behind a black hole). */
export const PULL_TIMEOUT_MS = 60_000;

/** Follows a pull's progress stream to its end; an `error` line in it is a failure too. */
function followPull(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err) return reject(err);
      const failed = output.find((o): o is { error: unknown } => typeof o === 'object' && o !== null && 'error' in o);
      if (failed) return reject(new Error(String(failed.error)));
      resolve();
    });
  });
}

export async function ensureImage(docker: Docker, ref: string, owner: AbortSignal, timeoutMs = PULL_TIMEOUT_MS): Promise<void> {
  try {
    await docker.getImage(ref).inspect();
    return;
  } catch (e) {
    if (dockerStatus(e) !== 404) throw new AppError('UNAVAILABLE', `cannot inspect image "${ref}": ${dockerReason(e)}`);
  }
  const signal = AbortSignal.any([owner, AbortSignal.timeout(timeoutMs)]);
  try {
    const stream = await docker.pull(ref, { abortSignal: signal });
    const abort = () => (stream as NodeJS.ReadableStream & { destroy(err?: Error): void }).destroy(new Error(`pull timed out after ${timeoutMs}ms`));
    signal.addEventListener('abort', abort, { once: true });
    try {
      await followPull(docker, stream);
    } finally {
      signal.removeEventListener('abort', abort);
    }
  } catch (e) {
    const reason = signal.aborted && !owner.aborted ? `pull timed out after ${timeoutMs}ms` : dockerReason(e);
    throw new AppError('NOT_FOUND', `image "${ref}" not found locally and could not be pulled: ${reason}`);
  }
}
