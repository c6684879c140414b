// Node health against the real host: `gantry up --pressure disk=99%` makes the node's DiskPressure
// hold on any disk this machine has, so the node says so in `get nodes` and `describe node`, the
// scheduler places nothing there and the instance says why; GET /metrics counts the condition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../support/prom-text.js';
import { GantryProcesses } from '../support/gantry-process.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

describe('node health: pressure conditions', () => {
  let g: GantryProcesses;
  let image = '';

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    await g.up(['--pressure', 'disk=99%']);
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  it('shows DiskPressure on the node, keeps new instances off it and says why', async () => {
    await waitFor('DiskPressure on the node', async () => (await g.cli(['get', 'nodes'])).stdout.includes('DiskPressure'), 30_000);
    const nodes = await g.cli(['get', 'nodes']);
    expect(nodes.stdout).toMatch(/e2e-node\s+true,DiskPressure\s/);
    const described = await g.cli(['describe', 'node', 'e2e-node']);
    expect(described.stdout).toMatch(/DiskPressure/);
    expect(described.stdout).toMatch(/pressure under 99\.0% of bytes|pressure under 99% of bytes/);

    const r = await g.apply(`apiVersion: gantry/v1\nkind: Service\nmetadata: { name: pressed }\nspec:\n  replicas: 1\n  containers:\n    - name: main\n      image: ${image}\n      command: ["sh", "-c", "sleep 3600"]\n      resources: { cpu: 0.05, memory: 16Mi }\n`);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('the instance to be unschedulable for disk pressure', async () => {
      const list = await g.getJson<{ items: { spec: { node?: string }; status?: { reason?: string; message?: string } }[] }>(['get', 'instances']);
      return list.items.some((i) => i.spec.node === undefined && i.status?.reason === 'Unschedulable' && /disk pressure/.test(i.status.message ?? ''));
    }, 30_000);

    const metrics = await g.fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(metrics.status).toBe(200);
    const samples = parsePrometheusText(await metrics.text());
    expect(samples.find((s) => s.name === 'gantry_nodes' && s.labels.condition === 'DiskPressure' && s.labels.status === 'True')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'gantry_instances' && s.labels.phase === 'Pending')?.value).toBe(1);
  });
});
