// Finer isolation on the real dockerd: /proc/meminfo inside a container shows its own memory limit
// (lxcfs views, which scripts/ensure.sh installs and starts: this test fails, not skips, without
// them), the node says it has the views, resources.pids sets the container's PIDs limit,
// cpuMode cpuset pins instances to distinct cores, runAsUser auto gives distinct uids, and
// runAsNonRoot refuses an image that runs as root.
import { describe, expect, it } from 'vitest';
import type { GantryNode } from '../../src/core/index.js';
import { docker, inspect } from '../support/docker-cli.js';
import { useGantryUp } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

const t = useGantryUp();

describe('isolation', () => {
  it('a 64Mi container reads MemTotal 65536 kB in /proc/meminfo, gets the pids it asked for, and the node reports its views', async () => {
    const node = await t.g.getJson<GantryNode>(['get', 'node', 'e2e-node', '-o', 'json']);
    expect(JSON.stringify(node.status)).toMatch(/lxcfs: [a-z, ]*meminfo/);
    const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: small }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "while true; do sleep 1; done"]
      resources: { cpu: 0.05, memory: 64Mi, pids: 48 }
`;
    expect((await t.g.apply(yaml)).code).toBe(0);
    const inst = await waitFor('a running instance', async () => (await instancesOf(t.g, 'small')).find((i) => i.status?.phase === 'Running'), 60_000);
    const id = inst.status!.containers[0]!.containerId!;
    expect((await inspect(id)).running).toBe(true);
    const meminfo = await docker('exec', id, 'head', '-1', '/proc/meminfo');
    expect(meminfo).toMatch(/^MemTotal:\s+65536 kB/);
    expect((await docker('inspect', '--format', '{{.HostConfig.PidsLimit}}', id)).trim()).toBe('48');
    // `gantry exec` sees the same view.
    const viaExec = await t.g.cli(['exec', inst.metadata.name, '--', 'head', '-1', '/proc/meminfo']);
    expect(viaExec.stdout).toMatch(/^MemTotal:\s+65536 kB/);
  }, 90_000);

  it('refuses resources.pids out of range with the field path', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: tiny }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      resources: { pids: 3 }
`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec\.containers\[0\]\.resources\.pids/);
    expect(r.stderr).toMatch(/from 16 to 4194304/);
  }, 30_000);

  it('pins two cpuset instances to distinct cores (what the cgroup inside says too), and gives two auto instances distinct uids', async () => {
    // The node's 2 cores are free only once the first test's service is gone.
    await t.g.cli(['delete', 'service', 'small']);
    await waitFor('no instances left', async () => ((await instancesOf(t.g, 'small')).length === 0 ? true : undefined), 60_000);
    const node = await t.g.getJson<GantryNode>(['get', 'node', 'e2e-node', '-o', 'json']);
    expect(node.status?.cpuset?.reserved).toBe('');
    const cores = node.status?.cpuset?.allocatable ?? 0;
    expect(cores).toBeGreaterThanOrEqual(2);
    const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: pinned }
spec:
  replicas: 2
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "while true; do sleep 1; done"]
      resources: { cpu: 1, memory: 32Mi, cpuMode: cpuset }
      securityContext: { runAsUser: auto }
`;
    expect((await t.g.apply(yaml)).code).toBe(0);
    const running = await waitFor(
      'two running pinned instances',
      async () => {
        const list = (await instancesOf(t.g, 'pinned')).filter((i) => i.status?.phase === 'Running');
        return list.length === 2 ? list : undefined;
      },
      60_000,
    );
    const pinned = new Set<string>();
    const uids = new Set<string>();
    for (const inst of running) {
      const id = inst.status!.containers[0]!.containerId!;
      const hostSide = (await docker('inspect', '--format', '{{.HostConfig.CpusetCpus}}', id)).trim();
      expect(hostSide).toMatch(/^[0-9]+$/);
      expect(inst.status?.isolation?.cpuset).toBe(hostSide);
      // cgroup v1 here; v2 names the file differently.
      const inside = (await docker('exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/cpuset/cpuset.effective_cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus.effective')).trim();
      expect(inside).toBe(hostSide);
      pinned.add(hostSide);
      const uid = (await docker('exec', id, 'id', '-u')).trim();
      expect(Number(uid)).toBe(inst.spec.autoUid);
      expect(Number(uid)).toBeGreaterThanOrEqual(100_000);
      uids.add(uid);
      expect(inst.status?.isolation?.procViews).toBe(true);
    }
    expect(pinned.size).toBe(2);
    expect(uids.size).toBe(2);
    // A third does not fit: every core is pinned.
    expect((await t.g.cli(['scale', 'service', 'pinned', '--replicas', '3'])).code).toBe(0);
    await waitFor(
      'the third waits for a core',
      async () => ((await instancesOf(t.g, 'pinned')).find((i) => i.spec.node === undefined && /insufficient/.test(i.status?.message ?? '')) ? true : undefined),
      30_000,
    );
    await t.g.cli(['delete', 'service', 'pinned']);
  }, 120_000);

  it('refuses to start an image that runs as root when runAsNonRoot is set, naming the field', async () => {
    const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: nonroot }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "while true; do sleep 1; done"]
      securityContext: { runAsNonRoot: true }
`;
    expect((await t.g.apply(yaml)).code).toBe(0);
    const inst = await waitFor(
      'the refusal in the status',
      async () => (await instancesOf(t.g, 'nonroot')).find((i) => /runAsNonRoot/.test(JSON.stringify(i.status ?? {}))),
      60_000,
    );
    const text = JSON.stringify(inst.status);
    expect(text).toMatch(/runs as root/);
    expect(text).toMatch(/runAsUser/);
    expect(inst.status?.phase).not.toBe('Running');
    await t.g.cli(['delete', 'service', 'nonroot']);
  }, 90_000);
});
