// The HAProxy load balancer against real dockerd and a real HAProxy (Debian's 2.6): traffic
// through a service port reaches every replica; a killed container stops getting traffic within a
// health-check interval; rolling updates (also with a scale-down in the middle) fail no request;
// Host headers route on the shared HTTP port; a reload that cannot load is reported while the old
// config keeps serving. Clients open a new connection per request (no keep-alive), so every
// request is balanced anew. All traffic goes to 127.0.0.1.
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryEvent, Instance } from '../../src/core/index.js';
import type { LoadBalancerStatus } from '../../src/discovery/haproxy/lb-status.js';
import { docker } from '../support/docker-cli.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { sleep, waitFor } from '../support/wait.js';

interface Answer {
  status: number;
  body: string;
}

/** One GET through HAProxy on a fresh connection; a network error is status 0. */
function hit(port: number, host?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end();
  });
}

/** Requests in a loop until `done()` says so (and at least `min` were sent); counts answers by body. */
async function clientLoop(port: number, min: number, done: () => boolean, maxMs = 240_000): Promise<{ total: number; failed: Answer[]; byBody: Map<string, number> }> {
  const failed: Answer[] = [];
  const byBody = new Map<string, number>();
  const deadline = Date.now() + maxMs;
  let total = 0;
  while ((total < min || !done()) && Date.now() < deadline) {
    const a = await hit(port);
    total++;
    if (a.status !== 200) failed.push(a);
    else byBody.set(a.body, (byBody.get(a.body) ?? 0) + 1);
  }
  return { total, failed, byBody };
}

/** webService with spec.expose (and 0.2 cores instead of 0.05: httpd forks per request, and the loops want speed). */
const exposed = (image: string, name: string, expose: string, opts: { replicas?: number; env?: string; restart?: string } = {}): string =>
  webService(name, opts.replicas ?? 3, image, `  expose:\n${expose}${opts.restart ? `  restartPolicy: ${opts.restart}\n` : ''}`).replace(
    '      resources:',
    `${opts.env ? `      env: { VERSION: "${opts.env}" }\n` : ''}      resources:`,
  ).replace('cpu: 0.05', 'cpu: 0.2');

describe('load balancer (HAProxy)', () => {
  let g: GantryProcesses;
  let image: string;
  let httpPort: number;

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    httpPort = await freePort();
    await g.up(['--lb-http-port', String(httpPort)]);
    expect(g.logOf('up')).toMatch(new RegExp(`lb: +HAProxy on 127\\.0\\.0\\.1 \\(host routing on http://127\\.0\\.0\\.1:${httpPort}`));
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  async function lbStatus(service: string): Promise<LoadBalancerStatus> {
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/services/${service}/loadbalancer`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as LoadBalancerStatus;
  }

  /** Waits until HAProxy has `n` servers UP for the service's first expose entry; returns their instances. */
  async function upServers(service: string, n: number, where = ''): Promise<string[]> {
    return waitFor(`${n} servers UP behind ${service} ${where}`, async () => {
      const s = await lbStatus(service);
      const up = s.entries[0]?.servers.filter((x) => x.state.startsWith('UP')) ?? [];
      return s.entries[0]?.state === 'Serving' && up.length === n ? up.map((x) => x.instance).sort() : undefined;
    }, 90_000, 100);
  }

  async function deleteService(name: string): Promise<void> {
    expect((await g.cli(['delete', 'service', name])).code).toBe(0);
    await waitFor(`${name}'s instances to go`, async () => (await instancesOf(g, name)).length === 0, 90_000);
  }

  it('300 requests through a service port reach all 3 replicas; a killed container stops getting traffic within a health-check interval', async () => {
    const port = await freePort();
    // restartPolicy Never: the killed instance does not come back, so any later answer from it would be a bug.
    expect((await g.apply(exposed(image, 'lbweb', `    - { port: http, servicePort: ${port} }\n`, { restart: 'Never' }))).code).toBe(0);
    const names = await upServers('lbweb', 3);

    const counts = new Map<string, number>();
    for (let k = 0; k < 300; k++) {
      const a = await hit(port);
      expect(a.status).toBe(200);
      counts.set(a.body, (counts.get(a.body) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(names);

    const wide = await g.cli(['get', 'service', 'lbweb', '-o', 'wide']);
    expect(wide.stdout).toMatch(new RegExp(`LB[\\s\\S]*127\\.0\\.0\\.1:${port} 3/3`));
    const describe = await g.cli(['describe', 'service', 'lbweb']);
    expect(describe.stdout).toMatch(/Load balancer:/);
    expect(describe.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));

    const victim = (await instancesOf(g, 'lbweb')).find((i) => i.metadata.name === names[0])!;
    await docker('kill', victim.status!.containers[0]!.containerId!);
    const killedAt = Date.now();
    // Health-check interval 1 s, plus slack for the agent's report and the runtime API.
    await waitFor(`HAProxy to stop sending to ${victim.metadata.name}`, async () => {
      const s = await lbStatus('lbweb');
      return !s.entries[0]?.servers.some((x) => x.instance === victim.metadata.name && x.state.startsWith('UP'));
    }, 1000 + 2000, 50);
    expect(Date.now() - killedAt).toBeLessThan(1000 + 2500);
    const after = await clientLoop(port, 100, () => true);
    expect(after.failed).toEqual([]);
    expect(after.byBody.has(victim.metadata.name)).toBe(false);
    await deleteService('lbweb');
  }, 240_000);

  /**
   * Applies `name` at v1 (3 replicas), starts a client loop through HAProxy, rolls out v2 (with
   * `midway` once the first v2 instance is ready), and ends the loop once HAProxy has only v2 with
   * `replicas` servers UP. Returns what the loop counted and the v1 and v2 instance names.
   */
  async function rollUnderLoad(name: string, replicas: number, midway?: () => Promise<void>): Promise<{ r: Awaited<ReturnType<typeof clientLoop>>; v1: string[]; v2: string[] }> {
    const port = await freePort();
    const expose = `    - { port: http, servicePort: ${port} }\n`;
    expect((await g.apply(exposed(image, name, expose, { env: 'v1' }))).code).toBe(0);
    const v1 = await upServers(name, 3);
    let complete = false;
    const loop = clientLoop(port, 3000, () => complete);
    expect((await g.apply(exposed(image, name, expose, { env: 'v2' }))).code).toBe(0);
    if (midway) {
      await waitFor('the first v2 instance to be ready', async () => (await instancesOf(g, name)).some((i) => i.spec.version === 2 && i.status?.ready === true), 120_000, 100);
      await midway();
    }
    const v2 = await waitFor(`${replicas} ready v2 instances and nothing else`, async () => {
      const l = await instancesOf(g, name);
      return l.length === replicas && l.every((i: Instance) => i.spec.version === 2 && i.status?.ready === true) ? l.map((i) => i.metadata.name).sort() : undefined;
    }, 180_000, 200);
    await upServers(name, replicas, 'of v2');
    complete = true;
    const r = await loop;
    await deleteService(name);
    return { r, v1, v2 };
  }

  it('zero downtime: a rolling update of a 3-replica exposed service fails none of >= 3,000 requests', async () => {
    const { r, v1, v2 } = await rollUnderLoad('lbroll', 3);
    expect(r.failed).toEqual([]);
    expect(r.total).toBeGreaterThanOrEqual(3000);
    // Both versions answered during the loop.
    expect(v1.some((n) => r.byBody.has(n))).toBe(true);
    expect(v2.some((n) => r.byBody.has(n))).toBe(true);
  }, 300_000);

  it('zero downtime: a rolling update with a scale-down (3 -> 2) in the middle fails no request', async () => {
    const { r, v2 } = await rollUnderLoad('lbscale', 2, async () => {
      expect((await g.cli(['scale', 'service', 'lbscale', '--replicas', '2'])).code).toBe(0);
    });
    expect(r.failed).toEqual([]);
    expect(r.total).toBeGreaterThanOrEqual(3000);
    expect(v2.some((n) => r.byBody.has(n))).toBe(true);
  }, 300_000);

  it('routes by Host header on the shared HTTP port', async () => {
    expect((await g.apply(exposed(image, 'lba', '    - { port: http, hostname: a.lb.test }\n', { replicas: 1 }))).code).toBe(0);
    expect((await g.apply(exposed(image, 'lbb', '    - { port: http, hostname: b.lb.test }\n', { replicas: 1 }))).code).toBe(0);
    const [a] = await upServers('lba', 1);
    const [b] = await upServers('lbb', 1);
    for (let k = 0; k < 5; k++) {
      expect(await hit(httpPort, 'a.lb.test')).toEqual({ status: 200, body: a });
      expect(await hit(httpPort, `B.lb.test:${httpPort}`)).toEqual({ status: 200, body: b });
    }
    expect((await hit(httpPort, 'c.lb.test')).status).toBe(404);
    expect((await lbStatus('lba')).entries[0]?.frontends).toEqual([`http://a.lb.test:${httpPort}`]);
    await deleteService('lba');
    await deleteService('lbb');
  }, 240_000);

  it('reports a reload that cannot bind its port, and the old config keeps serving', async () => {
    const goodPort = await freePort();
    expect((await g.apply(exposed(image, 'lbok', `    - { port: http, servicePort: ${goodPort} }\n`, { replicas: 1 }))).code).toBe(0);
    const [ok] = await upServers('lbok', 1);
    // A port someone else holds passes `haproxy -c` but cannot be bound: HAProxy 2.6 keeps the old worker.
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const taken = (holder.address() as { port: number }).port;
    try {
      expect((await g.apply(exposed(image, 'lbbad', `    - { port: http, servicePort: ${taken} }\n`, { replicas: 1 }))).code).toBe(0);
      const bad = await waitFor('the failed reload to be reported', async () => {
        const s = await lbStatus('lbbad');
        return s.entries[0]?.state === 'Failed' ? s : undefined;
      }, 60_000, 200);
      expect(bad.lastReload?.result).toBe('failed');
      expect(bad.entries[0]?.message).toMatch(/cannot bind socket/);
      const events = await g.getJson<{ items: GantryEvent[] }>(['get', 'events']);
      expect(events.items.some((e) => e.spec.involved.name === 'lbbad' && e.spec.reason === 'LoadBalancerFailed')).toBe(true);
      // A reload attempt that cannot bind pauses the old worker's listeners while HAProxy retries
      // the bind (SIGTTOU/SIGTTIN), so connections may be refused for that moment; then it serves.
      await waitFor('the old worker to serve again', async () => ((await hit(goodPort)).status === 200 ? true : undefined), 10_000, 100);
      for (let k = 0; k < 20; k++) expect(await hit(goodPort)).toEqual({ status: 200, body: ok });
      const describe = await g.cli(['describe', 'service', 'lbbad']);
      expect(describe.stdout).toMatch(/Failed/);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    await deleteService('lbbad');
    await sleep(500);
    expect(await hit(goodPort)).toEqual({ status: 200, body: ok });
    await deleteService('lbok');
  }, 240_000);
});
