// Node maintenance, crash loops and lost nodes against real Docker: one `gantry server` and two
// `gantry agent` processes on the same dockerd (node-a and node-b, told apart by their names and
// labels, each with its own host-port range and a 1 s heartbeat).
//   - drain node-a: every instance moves to node-b while ready instances never drop below
//     replicas - maxUnavailable; the CLI prints progress; uncordon makes node-a usable again;
//   - a crash-looping container restarts in place with growing back-off, then moves to the other
//     node after rescheduleAfterFailures failures (its replacement avoids the first node);
//   - an agent frozen with SIGSTOP: the instance of a service with lostAfter 3s is replaced on the
//     other node while one with lostAfter 60s is left alone; when the agent thaws, the original
//     replaced instance's container is stopped (onNodeReturn KeepReplacement), while a
//     KeepOriginal service gets its original back and its stand-in stopped;
//   - `gantry events` tells each of these steps.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinished, type Instance } from '../../src/core/index.js';
import { containersWithLabels } from '../support/docker-cli.js';
import { GantryProcesses } from '../support/gantry-process.js';
import { readyCount, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { sleep, waitFor } from '../support/wait.js';

describe('node maintenance', () => {
  let g: GantryProcesses;
  let image: string;
  const agents = new Map<string, ChildProcess>();

  const startAgent = (name: string, ports: string) =>
    g.startAgent(name, ['--driver', 'docker', '--labels', `host=${name}`, '--publish-address', '127.0.0.1', '--port-range', ports, '--heartbeat-interval', '1s']);

  /** Instances of `service` through the API (cheaper than a CLI process per sample). */
  const instances = async (service: string): Promise<Instance[]> => {
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/instances`, { headers: { authorization: `Bearer ${g.token}` } });
    if (!r.ok) throw new Error(`list instances: ${r.status}`);
    return ((await r.json()) as { items: Instance[] }).items.filter((i) => i.spec.service === service);
  };
  const live = (items: readonly Instance[]) => items.filter((i) => !isFinished(i) && !i.spec.stop);
  const nodeSpec = async (name: string) => (await g.getJson<{ spec: { unschedulable?: boolean; draining?: boolean } }>(['get', 'node', name])).spec;

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    await g.server();
    agents.set('node-a', await startAgent('node-a', '21000-21499'));
    agents.set('node-b', await startAgent('node-b', '21500-21999'));
    await waitFor('two ready nodes', async () => {
      const nodes = await g.getJson<{ items: { status?: { ready?: boolean } }[] }>(['get', 'nodes']);
      return nodes.items.filter((n) => n.status?.ready === true).length === 2;
    });
  }, 120_000);
  afterAll(async () => {
    // A frozen agent would not stop on SIGTERM.
    for (const a of agents.values()) a.kill('SIGCONT');
    await g?.close();
  });

  it('drains node-a within maxUnavailable, printing progress, and uncordons it', async () => {
    const update = '  update: { maxSurge: 1, maxUnavailable: 1 }\n';
    expect((await g.apply(webService('web', 4, image, update))).code).toBe(0);
    await waitFor('4 ready instances on both nodes', async () => {
      const items = live(await instances('web'));
      return readyCount(items) === 4 && new Set(items.map((i) => i.spec.node)).size === 2;
    }, 90_000);

    let minReady = Infinity;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        minReady = Math.min(minReady, readyCount(await instances('web')));
        samples++;
        await sleep(200);
      }
    })();
    const drain = await g.cli(['node', 'drain', 'node-a', '--timeout', '3m']);
    sampling = false;
    await sampler;

    expect(drain.code, drain.stderr).toBe(0);
    const lines = drain.stdout.trim().split('\n');
    expect(lines[0]).toBe('node node-a is draining: its service instances move to other nodes');
    expect(lines[1]).toMatch(/^drain node-a: 0 of ([1-3]) instances? moved \(\1 left: web-\w+(, web-\w+)*\)$/);
    expect(lines.at(-1)).toBe('node node-a drained');
    // A line only when the count changes.
    expect(new Set(lines).size).toBe(lines.length);
    expect(samples).toBeGreaterThan(5);
    expect(minReady).toBeGreaterThanOrEqual(3);
    const after = live(await instances('web'));
    expect(after.map((i) => i.spec.node)).toEqual(['node-b', 'node-b', 'node-b', 'node-b']);
    await waitFor('4 ready on node-b', async () => readyCount(live(await instances('web'))) === 4);
    expect(await nodeSpec('node-a')).toMatchObject({ unschedulable: true, draining: true });

    const un = await g.cli(['node', 'uncordon', 'node-a']);
    expect(un.stdout).toBe('node node-a uncordoned: instances may be placed there again\n');
    expect(await nodeSpec('node-a')).not.toHaveProperty('draining');
    // Placement uses node-a again: a fifth replica goes to the emptier node.
    expect((await g.cli(['scale', 'service', 'web', '--replicas', '5'])).code).toBe(0);
    await waitFor('a replica on node-a', async () => live(await instances('web')).some((i) => i.spec.node === 'node-a' && i.status?.ready));
    expect((await g.cli(['delete', 'service', 'web'])).code).toBe(0);
  }, 240_000);

  it('restarts a crash-looping container with growing back-off, then moves it to the other node', async () => {
    const crash = `apiVersion: gantry/v1
kind: Service
metadata:
  name: crash
spec:
  replicas: 1
  rescheduleAfterFailures: 3
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "sleep 1; exit 1"]
      resources: { cpu: 0.05, memory: 16Mi }
`;
    expect((await g.apply(crash)).code).toBe(0);
    const first = await waitFor('the crash instance to be placed', async () => (await instances('crash')).find((i) => i.spec.node));
    const firstNode = first.spec.node!;
    const otherNode = firstNode === 'node-a' ? 'node-b' : 'node-a';

    const replacement = await waitFor('a replacement on the other node', async () => (await instances('crash')).find((i) => i.metadata.name !== first.metadata.name && i.spec.node), 90_000);
    expect(replacement.spec.node).toBe(otherNode);
    expect(replacement.spec.avoidNodes).toEqual([firstNode]);

    const events = await g.cli(['events', '--for', `instance/${first.metadata.name}`]);
    // The agent's back-off events: "... restarting in 1s (restart 1)", then 2s: each gap longer. The
    // third exit is the one that moves the instance; its "restarting in 4s (restart 3)" may or may
    // not be recorded before the move stops the slot, and when it is, it says 4s.
    const delays = [...events.stdout.matchAll(/restarting in (\d+)s \(restart (\d+)\)/g)].map((m) => [Number(m[2]), Number(m[1])]);
    const byRestart = new Map(delays.map(([restart, delay]) => [restart!, delay!]));
    expect([1, 2].map((r) => byRestart.get(r))).toEqual([1, 2]);
    expect([undefined, 4]).toContain(byRestart.get(3));
    expect(events.stdout).toContain(`CrashLoopRescheduled   instance/${first.metadata.name}`);
    expect(events.stdout).toContain(`${first.metadata.name} failed 3 times in a row on node ${firstNode}; moving it to another node`);
    await waitFor('the original to be gone', async () => !(await instances('crash')).some((i) => i.metadata.name === first.metadata.name), 60_000);
    expect((await g.cli(['delete', 'service', 'crash'])).code).toBe(0);
  }, 180_000);

  it('replaces the instances of a silent node by each service\'s lostAfter; on return KeepReplacement stops the original, KeepOriginal revives it', async () => {
    // Both services start on node-a: node-b is cordoned meanwhile.
    expect((await g.cli(['node', 'cordon', 'node-b'])).code).toBe(0);
    expect((await g.apply(webService('quick', 1, image, '  lostAfter: 3s\n'))).code).toBe(0);
    expect((await g.apply(webService('patient', 1, image, '  lostAfter: 60s\n'))).code).toBe(0);
    expect((await g.apply(webService('loyal', 1, image, '  lostAfter: 3s\n  onNodeReturn: KeepOriginal\n'))).code).toBe(0);
    await waitFor('quick, patient and loyal ready on node-a', async () => {
      const all = [...live(await instances('quick')), ...live(await instances('patient')), ...live(await instances('loyal'))];
      return all.length === 3 && all.every((i) => i.spec.node === 'node-a' && i.status?.ready);
    }, 90_000);
    expect((await g.cli(['node', 'uncordon', 'node-b'])).code).toBe(0);
    const [original] = await instances('quick');
    const [patient] = await instances('patient');
    const [loyal] = await instances('loyal');
    const loyalContainers = await containersWithLabels({ 'io.gantry.cluster': g.clusterId, 'io.gantry.instance': loyal!.metadata.name }, false);
    expect(loyalContainers).toHaveLength(1);

    const agentA = agents.get('node-a')!;
    agentA.kill('SIGSTOP');
    const stoppedAt = Date.now();
    let thawed = false;
    try {
      const moved = await waitFor('quick replaced on node-b', async () => live(await instances('quick')).find((i) => i.spec.node === 'node-b' && i.status?.ready), 60_000);
      expect(moved.metadata.name).not.toBe(original!.metadata.name);
      // KeepOriginal: replaced too, but the original's object is kept for the node's return.
      const stand = await waitFor('loyal replaced on node-b', async () => live(await instances('loyal')).find((i) => i.spec.node === 'node-b' && i.status?.ready), 60_000);
      expect((await instances('loyal')).find((i) => i.metadata.name === loyal!.metadata.name)?.status?.phase).toBe('Lost');
      // Well before its 60 s, the patient service's instance is still there, not Lost.
      expect(Date.now() - stoppedAt).toBeLessThan(45_000);
      const still = (await instances('patient')).find((i) => i.metadata.name === patient!.metadata.name);
      expect(still?.status?.phase).toBe('Running');
      expect(still?.spec.node).toBe('node-a');
      expect((await g.getJson<{ status?: { ready?: boolean } }>(['get', 'node', 'node-a'])).status?.ready).toBe(false);
      // The original's container still runs on the frozen node: nobody could stop it yet.
      expect(await containersWithLabels({ 'io.gantry.cluster': g.clusterId, 'io.gantry.instance': original!.metadata.name }, false)).toHaveLength(1);

      agentA.kill('SIGCONT');
      thawed = true;
      await waitFor('the original container to be stopped', async () => (await containersWithLabels({ 'io.gantry.cluster': g.clusterId, 'io.gantry.instance': original!.metadata.name }, false)).length === 0, 60_000);
      // KeepOriginal: the original runs again (same container), its stand-in is stopped and goes.
      await waitFor('loyal\'s stand-in to be gone', async () => !(await instances('loyal')).some((i) => i.metadata.name === stand.metadata.name), 60_000);
      const back = (await instances('loyal')).find((i) => i.metadata.name === loyal!.metadata.name);
      expect(back?.status?.phase).toBe('Running');
      expect(live(await instances('loyal')).map((i) => i.metadata.name)).toEqual([loyal!.metadata.name]);
      expect(await containersWithLabels({ 'io.gantry.cluster': g.clusterId, 'io.gantry.instance': loyal!.metadata.name }, false)).toEqual(loyalContainers);
      expect((await g.cli(['events', '--for', 'node/node-a'])).stdout).toContain(`(onNodeReturn KeepOriginal): default/${loyal!.metadata.name} (stopped ${stand.metadata.name})`);
    } finally {
      if (!thawed) agentA.kill('SIGCONT');
    }
    await waitFor('node-a ready again', async () => (await g.getJson<{ status?: { ready?: boolean } }>(['get', 'node', 'node-a'])).status?.ready === true);
    const patientNow = live(await instances('patient'));
    expect(patientNow.map((i) => [i.metadata.name, i.spec.node])).toEqual([[patient!.metadata.name, 'node-a']]);
    expect(live(await instances('quick')).map((i) => i.spec.node)).toEqual(['node-b']);

    const events = await g.cli(['events', '--for', 'node/node-a']);
    expect(events.stdout).toMatch(/NodeNotReady +node\/node-a +node node-a stopped sending heartbeats/);
    expect(events.stdout).toMatch(new RegExp(`InstanceLost +node/node-a +2 instances lost \\(.*\\): .*default/${original!.metadata.name}`));
    expect(events.stdout).toMatch(new RegExp(`NodeReturned +node/node-a +node node-a is back; kept the replacements of 1 instance lost there and stopped the originals \\(onNodeReturn KeepReplacement\\): default/${original!.metadata.name}`));
  }, 240_000);

  it('gantry events tells every step in order, and -w streams new ones', async () => {
    const all = await g.cli(['events']);
    expect(all.code).toBe(0);
    const reasons = all.stdout.split('\n').slice(1).map((l) => l.split(/\s{3,}/)[2]);
    // NodeDraining and its first InstanceEvicted come from one drain pass, often in the same
    // millisecond and in either order: they are one step of the story.
    const order = ['NodeDraining', 'NodeDrained', 'NodeUncordoned', 'CrashLoopRescheduled', 'NodeCordoned', 'InstanceLost', 'NodeReturned'];
    expect(reasons).toContain('InstanceEvicted');
    expect(reasons.indexOf('InstanceEvicted')).toBeLessThan(reasons.indexOf('NodeDrained'));
    const firstAt = order.map((r) => reasons.indexOf(r));
    expect(firstAt.every((i) => i >= 0), `reasons seen: ${[...new Set(reasons)].join(', ')}`).toBe(true);
    expect([...firstAt].sort((x, y) => x - y)).toEqual(firstAt);

    const watcher = g.spawn('events-watch', ['events', '-w', '--for', 'node/node-b'], { GANTRY_ADDR: g.url });
    await waitFor('the watch to print its table', async () => g.logOf('events-watch').includes('REASON'), 30_000);
    await sleep(500);
    const before = g.logOf('events-watch').length;
    expect((await g.cli(['node', 'cordon', 'node-b'])).code).toBe(0);
    // The second cordon of node-b within ten minutes: the same event, its count bumped, printed again.
    await waitFor('the watch to print the cordon', async () => /NodeCordoned +node\/node-b +node node-b cordoned: no new instances are placed there \(x2\)/.test(g.logOf('events-watch').slice(before)), 30_000);
    await g.stop(watcher);
    expect((await g.cli(['node', 'uncordon', 'node-b'])).code).toBe(0);
  }, 120_000);
});
