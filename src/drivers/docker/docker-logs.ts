// Container logs as text lines. Docker multiplexes stdout and stderr into framed chunks when the
// container has no TTY; docker-modem's demuxStream unpacks them (never parse the frames by hand).
import { PassThrough, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { NotFoundError, UnavailableError } from '../../core/index.js';
import type { LogOptions } from '../driver.js';
import { dockerReason, dockerStatus } from './docker-errors.js';
import { LineSplitter } from './line-splitter.js';

async function openLogStream(container: Docker.Container, opts: LogOptions): Promise<NodeJS.ReadableStream> {
  const common = {
    stdout: true,
    stderr: true,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.timestamps ? { timestamps: true } : {}),
    // Docker takes whole or fractional unix seconds.
    ...(opts.until !== undefined ? { until: Date.parse(opts.until) / 1000 } : {}),
  };
  if (opts.follow) return container.logs({ ...common, follow: true });
  // Without follow docker-modem buffers the whole body (and would JSON-parse it if it could).
  const body: unknown = await container.logs({ ...common, follow: false });
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
  return Readable.from([buf]);
}

/** Yields log lines until the logs end (not following) or `signal` aborts. */
export async function* readLogs(
  docker: Docker,
  id: string,
  opts: LogOptions,
  owner: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  const signal = opts.signal ? AbortSignal.any([opts.signal, owner]) : owner;
  if (signal.aborted) return;
  let source: NodeJS.ReadableStream;
  try {
    source = await openLogStream(docker.getContainer(id), opts);
  } catch (e) {
    if (dockerStatus(e) === 404) throw new NotFoundError('container', undefined, id, `container ${id.slice(0, 12)} not found; it may have been removed`);
    throw new UnavailableError(`cannot read logs of container ${id.slice(0, 12)}: ${dockerReason(e)}`);
  }
  const out = new PassThrough();
  const endOut = () => {
    if (!out.writableEnded) out.end();
  };
  // Destroying the source stops demuxStream writing; its 'close' then ends `out`.
  const stop = () => (source as Readable).destroy();
  signal.addEventListener('abort', stop, { once: true });
  source.on('end', endOut);
  source.on('close', endOut);
  source.on('error', endOut);
  docker.modem.demuxStream(source, out, out);
  const lines = new LineSplitter();
  try {
    if (signal.aborted) stop();
    for await (const chunk of out) {
      for (const line of lines.push(chunk as Buffer)) yield line;
    }
    const last = lines.flush();
    if (last !== undefined) yield last;
  } finally {
    signal.removeEventListener('abort', stop);
    stop();
    endOut();
  }
}
