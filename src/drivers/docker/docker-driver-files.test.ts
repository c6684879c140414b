// copyFiles and volumes against the real dockerd (skipped when none answers): files land in a
// created, not yet started FROM-scratch container with their modes and parent directories, and a
// named volume is shared by two containers.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../../../test/support/test-image.js';
import { LABELS } from '../driver.js';
import { aLaunch } from '../test-helpers.js';
import { DockerDriver } from './docker-driver.js';

const SOCKET = '/var/run/docker.sock';
const docker = new Docker({ socketPath: SOCKET });
const dockerAnswers = await docker.ping().then(() => true, () => false);
if (!dockerAnswers) console.warn(`docker-driver-files tests SKIPPED: no Docker daemon answers on ${SOCKET}`);

const clusterId = `test-${randomBytes(4).toString('hex')}`;
const instance = { namespace: 'default', name: 'files-t1', uid: `uid-${clusterId}` };

async function runToEnd(driver: DockerDriver, id: string): Promise<string> {
  await driver.start(id);
  for (let i = 0; i < 200; i++) {
    const st = await driver.inspect(id);
    if (st && !st.running) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const lines: string[] = [];
  for await (const l of driver.logs(id, { follow: false })) lines.push(l);
  return lines.join('\n');
}

describe.skipIf(!dockerAnswers)('DockerDriver files and volumes', () => {
  const driver = new DockerDriver({ clusterId, nodeName: 'node-f', publishAddress: '127.0.0.1', socketPath: SOCKET, extraLabels: { 'io.gantry.test': '1' } });
  const volume = `gantry-test-${clusterId}`;

  afterAll(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${clusterId}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
    await driver.removeVolume(volume);
    await driver.close();
  }, 60_000);

  it('writes files with their modes into new directories before the container starts', async () => {
    const image = await ensureTestImage();
    const id = await driver.create(
      aLaunch({ instance, spec: { name: 'main', image, command: ['sh', '-c', 'cat /etc/app/deep/app.conf; stat -c "%a uid=%u" /etc/app/deep/app.conf /run/s/pw; stat -c "%a" /tmp'] } }),
    );
    await driver.copyFiles(id, [
      { path: '/etc/app/deep/app.conf', mode: 0o640, content: 'port=8080\nname=ü\n' },
      { path: '/run/s/pw', mode: 0o400, content: 'x'.repeat(1500) },
    ]);
    const out = await runToEnd(driver, id);
    expect(out).toContain('port=8080');
    expect(out).toContain('name=ü');
    expect(out).toMatch(/640 uid=0/);
    expect(out).toMatch(/400 uid=0/);
  }, 60_000);

  it('shares a named volume between two containers and removes it when asked', async () => {
    const image = await ensureTestImage();
    await driver.ensureVolume(volume, instance);
    await driver.ensureVolume(volume, instance); // idempotent
    const mounts = [{ volume, path: '/scratch' }];
    const writer = await driver.create(aLaunch({ instance, mounts, spec: { name: 'init', image, command: ['sh', '-c', 'echo shared > /scratch/f'] } }));
    await runToEnd(driver, writer);
    const reader = await driver.create(aLaunch({ instance, mounts, spec: { name: 'main', image, command: ['cat', '/scratch/f'] } }));
    expect(await runToEnd(driver, reader)).toContain('shared');
    const vol = await docker.getVolume(volume).inspect();
    expect(vol.Labels?.[LABELS.instanceUid]).toBe(instance.uid);
    await driver.destroy(writer);
    await driver.destroy(reader);
    await driver.removeVolume(volume);
    await driver.removeVolume(volume); // idempotent
    await expect(docker.getVolume(volume).inspect()).rejects.toThrow();
  }, 60_000);
});
