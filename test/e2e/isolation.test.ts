// Finer isolation on the real dockerd: /proc/meminfo inside a container shows its own memory limit
// (lxcfs views, which scripts/ensure.sh installs and starts: this test fails, not skips, without
// them), the node says it has the views, and resources.pids sets the container's PIDs limit.
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
});
