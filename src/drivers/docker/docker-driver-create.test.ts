// DockerDriver.create against a stand-in daemon on a unix socket: a real dockerd cannot be made
// to lose its answer to a create on demand.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aLaunch } from '../test-helpers.js';
import { DockerDriver } from './docker-driver.js';

interface FakeDaemon {
  socketPath: string;
  created: string[];
  removed: string[];
  close: () => Promise<void>;
}

/** Creates the container (remembers its name), then drops the connection instead of answering. */
async function aDaemonThatLosesCreateAnswers(imageUser = ''): Promise<FakeDaemon> {
  const socketPath = join(tmpdir(), `gantry-fake-docker-${randomBytes(4).toString('hex')}.sock`);
  const created: string[] = [];
  const removed: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker');
    req.resume();
    if (req.method === 'POST' && url.pathname.endsWith('/containers/create')) {
      created.push(url.searchParams.get('name') ?? '');
      req.socket.destroy();
      return;
    }
    if (req.method === 'GET' && /\/images\/.+\/json$/.test(url.pathname)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Config: { User: imageUser } }));
      return;
    }
    const del = /\/containers\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && del?.[1]) {
      removed.push(decodeURIComponent(del[1]));
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'not here' }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    created,
    removed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const daemons: FakeDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
});

describe('DockerDriver.create', () => {
  it('removes, by its unique name, a container whose create answer was lost, so none is left unowned', async () => {
    const daemon = await aDaemonThatLosesCreateAnswers();
    daemons.push(daemon);
    const driver = new DockerDriver({ clusterId: 'c1', nodeName: 'n1', publishAddress: '127.0.0.1', socketPath: daemon.socketPath });
    await expect(driver.create(aLaunch())).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('cannot create container "main"') });
    expect(daemon.created).toHaveLength(1);
    expect(daemon.created[0]).toMatch(/^gantry-default-web-ab12c-main-[a-z0-9]{4}$/);
    expect(daemon.removed).toEqual(daemon.created);
    await driver.close();
  });

  it('refuses runAsNonRoot for an image that runs as root (no USER) before creating anything, and lets a non-root image through', async () => {
    const rootImage = await aDaemonThatLosesCreateAnswers('');
    daemons.push(rootImage);
    const driver = new DockerDriver({ clusterId: 'c1', nodeName: 'n1', publishAddress: '127.0.0.1', socketPath: rootImage.socketPath });
    const launch = aLaunch({ spec: { securityContext: { runAsNonRoot: true } } });
    await expect(driver.create(launch)).rejects.toMatchObject({ code: 'INVALID', message: expect.stringContaining('runs as root (no USER); set runAsUser') });
    await expect(driver.create(aLaunch({ spec: { securityContext: { runAsNonRoot: true, runAsUser: 0 } } }))).rejects.toMatchObject({ code: 'INVALID' });
    expect(rootImage.created).toEqual([]);
    await driver.close();
    const userImage = await aDaemonThatLosesCreateAnswers('app:app');
    daemons.push(userImage);
    const other = new DockerDriver({ clusterId: 'c1', nodeName: 'n1', publishAddress: '127.0.0.1', socketPath: userImage.socketPath });
    await expect(other.create(launch)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(userImage.created).toHaveLength(1);
    await other.close();
  });
});
