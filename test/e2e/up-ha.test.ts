// `gantry up --ha` as a user runs it (bin/gantry, real etcd, real dockerd): three servers and a
// three-member etcd on loopback ports; every server answers; a service applied through one runs;
// losing an etcd member changes nothing visible; stopping the command stops etcd too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

/** Six free ports in a row (etcd member i: first + 2i, first + 2i + 1). */
async function sixFreePorts(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const first = await freePort();
    if (first > 65000) continue;
    const { createServer } = await import('node:net');
    const taken = await Promise.all(
      [1, 2, 3, 4, 5].map(
        (d) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(true));
            s.listen(first + d, '127.0.0.1', () => s.close(() => resolve(false)));
          }),
      ),
    );
    if (!taken.some(Boolean)) return first;
  }
  throw new Error('no six free ports in a row');
}

describe('gantry up --ha', () => {
  let g: GantryProcesses;
  let image = '';
  let urls: string[] = [];

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    // The servers take the port g.up picks and the next two.
    await g.up(['--ha', '--etcd-first-port', String(await sixFreePorts())]);
  }, 180_000);

  afterAll(async () => {
    await g?.close();
  });

  it('prints every server and etcd member, and each server answers for the same cluster', async () => {
    const out = g.logOf('up');
    const servers = /servers:\s+(\S+), (\S+), (\S+) /.exec(out);
    expect(servers, out.slice(-3000)).not.toBeNull();
    urls = (servers as RegExpExecArray).slice(1, 4);
    expect(out).toMatch(/etcd:\s+https:\/\/127\.0\.0\.1:\d+, https:\/\/127\.0\.0\.1:\d+, https:\/\/127\.0\.0\.1:\d+ \(3 members, TLS/);
    for (const url of urls) {
      const r = await g.cli(['--server', url, 'get', 'nodes', '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { items: { status?: { ready?: boolean } }[] }).items[0]?.status?.ready).toBe(true);
    }
    // The other servers keep their data apart and share the first's cluster id.
    expect(readFileSync(join(g.dataDir, 'ha', 'server-2', 'cluster-id'), 'utf8')).toBe(readFileSync(join(g.dataDir, 'cluster-id'), 'utf8'));
  });

  it('runs a service applied through the second server', async () => {
    const yaml = webService('ha-web', 2, image);
    const { writeFile } = await import('node:fs/promises');
    const file = join(g.dataDir, 'ha-web.yaml');
    await writeFile(file, yaml);
    const r = await g.cli(['--server', urls[1] as string, 'apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('2 ready instances', async () => (await instancesOf(g, 'ha-web')).filter((i) => i.status?.ready).length === 2, 90_000);
  }, 120_000);

  it('keeps working with one etcd member gone (quorum of two)', async () => {
    // The members are children of the up process this test started: find etcd-3 among them.
    const up = [...g.procs].find((p) => p.spawnargs.includes('up'));
    const pid = up?.pid as number;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const member = children.find((c) => {
      try {
        return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('--name=etcd-3');
      } catch {
        return false;
      }
    });
    expect(member, `children of ${pid}: ${children.join(',')}`).toBeDefined();
    process.kill(member as number, 'SIGKILL');
    const r = await g.cli(['--server', urls[2] as string, 'scale', 'service', 'ha-web', '--replicas', '3']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('3 ready instances', async () => (await instancesOf(g, 'ha-web')).filter((i) => i.status?.ready).length === 3, 90_000);
  }, 120_000);
});
