// Images are pulled only when absent: a node with no registry access still runs what it has.
import type Docker from 'dockerode';
import { ImageNotFoundError, UnavailableError } from '../../core/index.js';
import { dockerReason, dockerStatus } from './docker-errors.js';

/** A pull that makes no progress for this long is given up (a registry behind a black hole). */
const PULL_TIMEOUT_MS = 60_000;

/**
 * Docker's words for "this image cannot be had from here": the registry says it does not exist,
 * refuses it, or the name does not resolve to a reachable registry (a registry host that cannot
 * be resolved on this node means the image is as good as absent: what a user must read is "not
 * found locally and could not be pulled: <reason>", and a typo in the registry looks just like it).
 */
const ABSENT = /not found|does not exist|pull access denied|no such host|manifest unknown|name unknown|invalid reference format|repository name must/i;

/**
 * NOT_FOUND (ImageNotFoundError: the instance waits with reason ImageNotFound) when the image does not exist for this
 * node; UNAVAILABLE (ImagePullFailed) for what may pass by itself: timeouts, refused or reset
 * connections, registry errors, rate limits.
 */
export function pullFailureCode(status: number | undefined, reason: string, timedOut: boolean): 'NOT_FOUND' | 'UNAVAILABLE' {
  if (timedOut) return 'UNAVAILABLE';
  return status === 404 || ABSENT.test(reason) ? 'NOT_FOUND' : 'UNAVAILABLE';
}

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
    if (dockerStatus(e) !== 404) throw new UnavailableError(`cannot inspect image "${ref}": ${dockerReason(e)}`);
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
    const timedOut = signal.aborted && !owner.aborted;
    const reason = timedOut ? `pull timed out after ${timeoutMs}ms` : owner.aborted ? 'the driver is closing' : dockerReason(e);
    const code = owner.aborted ? 'UNAVAILABLE' : pullFailureCode(dockerStatus(e), reason, timedOut);
    // The same words either way: the image is absent here and the pull did not bring it.
    const message = `image "${ref}" not found locally and could not be pulled: ${reason}`;
    throw code === 'NOT_FOUND' ? new ImageNotFoundError(ref, message) : new UnavailableError(message);
  }
}
