// Server and agent as separate processes, as on separate hosts. A restarted agent adopts its
// running containers (same ids, no restarts) and removes labelled containers no instance wants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { containersWithLabels, docker, inspect } from '../support/docker-cli.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, readyCount, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { sleep, waitFor } from '../support/wait.js';

describe('restarting the agent', () => {
  let g: GantryProcesses;
  let image: string;
  let agent: ChildProcess;

  // The first start joins with a join token; the restart runs from the node credential stored then.
  const startAgent = () => g.startAgent('host-a', ['--driver', 'docker', '--labels', 'rack=r1', '--publish-address', '127.0.0.1']);

  const nodeReady = async () => {
    const n = await g.getJson<{ status?: { ready?: boolean; lastHeartbeat?: string } }>(['get', 'node', 'host-a']);
    return n.status?.ready === true ? n : undefined;
  };

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    const port = await freePort();
    g.url = `https://127.0.0.1:${port}`;
    g.spawn('server', ['server', '--listen', `127.0.0.1:${port}`]);
    await g.waitReady('server');
    agent = await startAgent();
    await waitFor('the agent to register a ready node', nodeReady);
  });
  afterAll(async () => {
    await g?.close();
  });

  it('keeps the same containers running, with no restart', async () => {
    expect((await g.apply(webService('kept', 2, image))).code).toBe(0);
    await waitFor('2 ready instances', async () => readyCount(await instancesOf(g, 'kept')) === 2);
    const ids = (await containersWithLabels({ 'io.gantry.cluster': g.clusterId })).sort();
    expect(ids).toHaveLength(2);
    const before = await Promise.all(ids.map(inspect));

    await g.stop(agent);
    // A labelled container that no instance wants: the returning agent must remove it.
    const orphan = await docker('run', '-d', '--label', `io.gantry.cluster=${g.clusterId}`, '--label', 'io.gantry.node=host-a',
      '--label', 'io.gantry.namespace=default', '--label', 'io.gantry.instance=gone-12345', '--label', 'io.gantry.instance-uid=00000000-dead',
      '--label', 'io.gantry.container=web', '--label', 'io.gantry.index=0', image, 'sleep', '100000');
    await sleep(500);
    const lastBeat = (await g.getJson<{ status?: { lastHeartbeat?: string } }>(['get', 'node', 'host-a'])).status?.lastHeartbeat;

    agent = await startAgent();
    await waitFor('a heartbeat from the new agent', async () => {
      const n = await nodeReady();
      return n && n.status?.lastHeartbeat !== lastBeat;
    });
    await waitFor('the orphan to be removed', async () => !(await containersWithLabels({ 'io.gantry.cluster': g.clusterId })).includes(orphan));
    await sleep(3000); // give a wrongly restarting agent time to do damage

    const after = await Promise.all(ids.map(inspect));
    expect((await containersWithLabels({ 'io.gantry.cluster': g.clusterId })).sort()).toEqual(ids);
    for (const [i, b] of before.entries()) {
      expect(after[i]!.running).toBe(true);
      expect(after[i]!.pid).toBe(b.pid);
      expect(after[i]!.startedAt).toBe(b.startedAt);
    }
    const list = await instancesOf(g, 'kept');
    expect(list.every((i) => i.status?.containers.every((c) => c.restartCount === 0))).toBe(true);
    expect(readyCount(list)).toBe(2);
  });
});
