// Live stats against the real dockerd: a container that burns CPU and holds 50 MiB shows in
// `gantry top` and the stats API within 20 s, within 20% of `docker stats`; the node's metrics,
// proxied by the server, parse as Prometheus text and carry cAdvisor's series for it; a metrics token
// scrapes metrics but reads no stats; the series go when the container does.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsList } from '../../src/core/index.js';
import { docker } from '../support/docker-cli.js';
import { GantryProcesses } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { parsePrometheusText } from '../support/prom-text.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

let g: GantryProcesses;
let image = '';
beforeAll(async () => {
  image = await ensureTestImage();
  g = await GantryProcesses.create();
  await g.up(['--stats-interval', '2s']);
}, 120_000);
afterAll(async () => {
  await g?.close();
}, 60_000);

const MiB = 1024 * 1024;

/** `docker stats --no-stream`: CPU as a fraction of one core, memory in bytes. */
async function dockerStats(id: string): Promise<{ cpu: number; memory: number }> {
  const out = await docker('stats', '--no-stream', '--format', '{{.CPUPerc}} {{.MemUsage}}', id);
  const m = /^([\d.]+)% ([\d.]+)(B|KiB|MiB|GiB)/.exec(out.trim());
  if (!m) throw new Error(`docker stats said: ${out}`);
  const unit = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[m[3] as 'B'];
  return { cpu: Number(m[1]) / 100, memory: Number(m[2]) * unit };
}

async function api<T>(path: string, token = g.token): Promise<{ status: number; body: T; text: string }> {
  const r = await g.fetch(`${g.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, body: body as T, text };
}

describe('live stats', () => {
  it('a busy container holding 50 MiB shows in gantry top, the stats API and the node metrics, close to docker stats', async () => {
    const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: burner }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "head -c 52428800 /dev/zero > /dev/shm/hold; while :; do :; done"]
      resources: { cpu: 0.3, memory: 128Mi }
`;
    expect((await g.apply(yaml)).code).toBe(0);
    const inst = await waitFor('a running burner', async () => (await instancesOf(g, 'burner')).find((i) => i.status?.phase === 'Running'), 60_000);
    const name = inst.metadata.name;
    const id = inst.status!.containers[0]!.containerId!;
    const started = Date.now();
    const stats = await waitFor(
      'two samples with 50 MiB held',
      async () => {
        const r = await api<StatsList>(`/api/v1/namespaces/default/instances/${name}/stats`);
        const s = r.body?.items?.[0];
        const last = s?.samples.at(-1);
        return last?.cpuCores !== undefined && last.memoryWorkingSetBytes > 50 * MiB ? s : undefined;
      },
      20_000,
      500,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stats).toMatchObject({ namespace: 'default', instance: name, service: 'burner', container: 'main', id, requests: { cpuMillis: 300, memoryBytes: 128 * MiB } });
    const last = stats.samples.at(-1)!;
    expect(last.memoryLimitBytes).toBe(128 * MiB);
    expect(last.pids).toBeGreaterThanOrEqual(1);
    const theirs = await dockerStats(id);
    expect(Math.abs(last.memoryWorkingSetBytes - theirs.memory) / theirs.memory).toBeLessThan(0.2);
    // Both are held to the 0.3-core quota; on a busy machine the loop may get a little less.
    expect(Math.abs(last.cpuCores! - theirs.cpu) / Math.max(theirs.cpu, 0.05)).toBeLessThan(0.2);

    const top = await g.cli(['top', 'instances']);
    expect(top.code, top.stderr).toBe(0);
    const row = top.stdout.split('\n').find((l) => l.startsWith(name));
    expect(row).toMatch(new RegExp(`^${name}\\s+e2e-node\\s+\\d+m? \\(\\d+%\\)\\s+300m\\s+5\\d(\\.\\d)?Mi \\(\\d+%\\)\\s+128Mi\\s+\\d+`));
    const nodes = await g.cli(['top', 'nodes']);
    expect(nodes.stdout).toMatch(/^NODE\s+CPU\s+CPU REQ\s+MEMORY\s+MEMORY REQ\s+PIDS\ne2e-node\s+/);

    const metrics = await api<unknown>('/api/v1/nodes/e2e-node/metrics');
    expect(metrics.status).toBe(200);
    const samples = parsePrometheusText(metrics.text);
    const labels = { namespace: 'default', service: 'burner', instance: name, container: 'main' };
    for (const family of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_spec_memory_limit_bytes', 'container_network_receive_bytes_total']) {
      const series = samples.find((s) => s.name === family && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      expect(series, family).toBeDefined();
    }
    expect(metrics.text).toContain('# TYPE container_cpu_usage_seconds_total counter');
    expect(samples.find((s) => s.name === 'container_spec_memory_limit_bytes' && s.labels.instance === name)?.value).toBe(128 * MiB);

    // The series go with the container.
    expect((await g.cli(['delete', 'service', 'burner'])).code).toBe(0);
    await waitFor('the burner series gone', async () => !(await api<unknown>('/api/v1/nodes/e2e-node/metrics')).text.includes(`instance="${name}"`), 30_000, 500);
  }, 120_000);

  it('a metrics token scrapes node metrics but reads no stats; a view token reads both; a wrong token nothing', async () => {
    const token = async (user: string, role: string): Promise<string> => {
      const made = await g.cli(['token', 'create', '--user', user, '--role', role, '--namespace', 'default', '--ttl', '1h']);
      expect(made.code, made.stderr).toBe(0);
      return made.stdout.trim();
    };
    const scraper = await token('prom', 'metrics');
    const vera = await token('vera', 'view');
    expect((await api('/api/v1/nodes/e2e-node/metrics', scraper)).status).toBe(200);
    expect((await api('/api/v1/nodes/e2e-node/stats', scraper)).status).toBe(403);
    expect((await api('/api/v1/nodes/e2e-node/stats', vera)).status).toBe(200);
    expect((await api('/api/v1/nodes/e2e-node/metrics', vera)).status).toBe(200);
    expect((await api('/api/v1/nodes/e2e-node/stats', 'gtu_wrong')).status).toBe(401);
  }, 60_000);

  it('?watch=1 streams each new round\'s samples as they are taken, and ends when the instance goes; a wrong token is refused', async () => {
    const yaml = `apiVersion: gantry/v1
kind: Service
metadata: { name: streamer }
spec:
  replicas: 1
  containers:
    - name: main
      image: ${image}
      command: ["/bin/sh", "-c", "while true; do sleep 1; done"]
      resources: { cpu: 0.05, memory: 32Mi }
`;
    expect((await g.apply(yaml)).code).toBe(0);
    const inst = await waitFor('a running streamer', async () => (await instancesOf(g, 'streamer')).find((i) => i.status?.phase === 'Running'), 60_000);
    const path = `/api/v1/namespaces/default/instances/${inst.metadata.name}/stats?watch=1`;
    expect((await api(path, 'gtu_wrong')).status).toBe(401);

    const lines: { items?: StatsList['items']; error?: string }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = httpsRequest(`${g.url}${path}`, { headers: { authorization: `Bearer ${g.token}` }, ca: g.caPem() }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/x-ndjson');
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            lines.push(JSON.parse(buf.slice(0, nl)) as (typeof lines)[number]);
            buf = buf.slice(nl + 1);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    // Rounds every 2 s: within 15 s, at least three lines, each later one with only newer samples.
    await waitFor('three stream lines with samples', async () => (lines.filter((l) => (l.items?.[0]?.samples.length ?? 0) > 0).length >= 3 ? true : undefined), 15_000, 200);
    const withSamples = lines.filter((l) => (l.items?.[0]?.samples.length ?? 0) > 0);
    const times = withSamples.flatMap((l) => l.items![0]!.samples.map((x) => Date.parse(x.at)));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(times.length);
    for (const l of withSamples.slice(1)) expect(l.items![0]!.samples.length).toBeLessThanOrEqual(2);

    expect((await g.cli(['delete', 'service', 'streamer'])).code).toBe(0);
    await ended;
    expect(lines.at(-1)?.error).toMatch(/is gone/);
  }, 120_000);
});
