// ensureImage against a stand-in for dockerode: the failures a registry gives cannot be produced
// on demand with a real daemon (and tests must not reach registries).
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ensureImage, pullFailureCode } from './docker-image.js';

/** docker-modem's error shape: statusCode plus Docker's JSON body. */
function dockerError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });
}

/** A daemon where the image is absent and `pull` behaves as given. */
function aDaemon(pull: () => Promise<NodeJS.ReadableStream>): Docker {
  const stub = {
    getImage: () => ({ inspect: () => Promise.reject(dockerError(404, 'No such image')) }),
    pull,
    modem: {
      followProgress(stream: NodeJS.ReadableStream, done: (err: Error | null, output: unknown[]) => void): void {
        const output: unknown[] = [];
        stream.on('data', (chunk: Buffer) => output.push(JSON.parse(chunk.toString()) as unknown));
        stream.on('error', (e: Error) => done(e, output));
        stream.on('end', () => done(null, output));
      },
    },
  };
  return stub as unknown as Docker;
}

const never = new AbortController().signal;

describe('ensureImage', () => {
  it('a pull that makes no progress times out as UNAVAILABLE (ImagePullFailed), still naming the image', async () => {
    const docker = aDaemon(async () => new PassThrough());
    await expect(ensureImage(docker, 'registry.example/acme/slow:1', never, 50)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'image "registry.example/acme/slow:1" not found locally and could not be pulled: pull timed out after 50ms',
    });
  });

  it('a registry that fails for a while (connection refused, 5xx) is UNAVAILABLE', async () => {
    const docker = aDaemon(() => Promise.reject(dockerError(500, 'Get "https://registry.example/v2/": dial tcp 127.0.0.1:443: connect: connection refused')));
    await expect(ensureImage(docker, 'registry.example/acme/app:1', never)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('connection refused') });
  });

  it('an error line in the progress stream counts as the pull failing', async () => {
    const docker = aDaemon(async () => {
      const stream = new PassThrough();
      setImmediate(() => stream.end(JSON.stringify({ error: 'manifest for acme/app:9 not found: manifest unknown' })));
      return stream;
    });
    await expect(ensureImage(docker, 'acme/app:9', never)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('manifest unknown') });
  });

  it('an image that does not exist, or whose registry cannot be resolved, is NOT_FOUND (ImageNotFound)', async () => {
    const docker = aDaemon(() => Promise.reject(dockerError(500, 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host')));
    await expect(ensureImage(docker, 'gantry-test/does-not-exist:0', never)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^image "gantry-test\/does-not-exist:0" not found locally and could not be pulled: .*no such host/),
    });
  });
});

describe('pullFailureCode', () => {
  it.each([
    [404, 'pull access denied for acme/x, repository does not exist or may require \'docker login\''],
    [500, 'manifest for acme/x:1 not found: manifest unknown'],
    [500, 'Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid: no such host'],
    [400, 'invalid reference format'],
  ])('%i %s -> NOT_FOUND', (status, reason) => {
    expect(pullFailureCode(status, reason, false)).toBe('NOT_FOUND');
  });

  it.each([
    [500, 'Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout'],
    [500, 'Get "https://registry-1.docker.io/v2/": context deadline exceeded'],
    [500, 'received unexpected HTTP status: 503 Service Unavailable'],
    [500, 'toomanyrequests: You have reached your pull rate limit'],
  ])('%i %s -> UNAVAILABLE', (status, reason) => {
    expect(pullFailureCode(status, reason, false)).toBe('UNAVAILABLE');
  });

  it('our own timeout is UNAVAILABLE whatever Docker said', () => {
    expect(pullFailureCode(404, 'not found', true)).toBe('UNAVAILABLE');
  });
});
