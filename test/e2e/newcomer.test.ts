// What a newcomer trips over (issue 18), against real dockerd and HAProxy: a second `gantry up` on
// the same data dir refuses before it touches the running one; a killed HAProxy comes back at once
// with events; piping the CLI into `head` ends quietly; a recreated service shows none of the
// deleted one's events; `stop instance` goes through its documented phases.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryEvent } from '../../src/core/index.js';
import type { LoadBalancerStatus } from '../../src/discovery/haproxy/lb-status.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

/** One GET on a fresh connection; a network error is status 0. */
function hit(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('a newcomer’s first hour', () => {
  let g: GantryProcesses;
  let image: string;
  let servicePort: number;

  beforeAll(async () => {
    image = await ensureTestImage();
    g = await GantryProcesses.create();
    await g.up(['--lb-http-port', String(await freePort())]);
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  async function lbStatus(service: string): Promise<LoadBalancerStatus> {
    const r = await fetch(`${g.url}/api/v1/namespaces/default/services/${service}/loadbalancer`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as LoadBalancerStatus;
  }

  async function serving(service: string, n: number): Promise<LoadBalancerStatus> {
    return waitFor(`${n} servers UP behind ${service}`, async () => {
      const s = await lbStatus(service);
      return s.entries[0]?.state === 'Serving' && s.entries[0].servers.filter((x) => x.state.startsWith('UP')).length === n ? s : undefined;
    }, 90_000, 100);
  }

  async function eventsFor(ref: string): Promise<GantryEvent[]> {
    const all = await g.getJson<{ items: GantryEvent[] }>(['get', 'events']);
    const [kind, name] = ref.split('/');
    return all.items.filter((e) => e.spec.involved.kind.toLowerCase() === kind && e.spec.involved.name === name);
  }

  it('a second `gantry up` on the same data dir refuses before touching anything; the running HAProxy keeps serving', async () => {
    servicePort = await freePort();
    const yaml = webService('lbnew', 2, image, `  expose:\n    - { port: http, servicePort: ${servicePort} }\n`);
    expect((await g.apply(yaml)).code).toBe(0);
    const before = await serving('lbnew', 2);
    expect(before.pid).toBeGreaterThan(1);

    for (const listen of [new URL(g.url).host, `127.0.0.1:${await freePort()}`]) {
      const second = g.spawn('second-up', ['up', '--listen', listen, '--dns-listen', '127.0.0.1:0', '--lb-http-port', String(await freePort()), '--name', 'e2e-node', '--publish-address', '127.0.0.1']);
      const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
      expect(code).toBe(1);
    }
    const log = g.logOf('second-up');
    expect(log).toMatch(/is already in use \(EADDRINUSE\).*Nothing was started or changed/);
    expect(log).toMatch(/in use by another Gantry \(pid \d+\); nothing was started or changed/);
    expect(log).not.toMatch(/stopping a haproxy/);

    // Nothing moved: the same HAProxy, every request answered.
    const after = await lbStatus('lbnew');
    expect(after.pid).toBe(before.pid);
    for (let k = 0; k < 20; k++) expect(await hit(servicePort)).toBe(200);
  }, 180_000);

  it('a killed HAProxy is restarted at once, with events on the services it serves', async () => {
    const { pid } = await lbStatus('lbnew');
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    const restarted = await waitFor('a new HAProxy serving lbnew', async () => {
      const s = await lbStatus('lbnew');
      return s.pid !== undefined && s.pid !== pid && s.entries[0]?.state === 'Serving' ? s : undefined;
    }, 20_000, 50);
    // At once: well before the 30 s retry that used to be the only way back.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    await waitFor('lbnew answers through HAProxy again', async () => (await hit(servicePort)) === 200, 20_000, 100);
    const events = await eventsFor('service/lbnew');
    expect(events.find((e) => e.spec.reason === 'LoadBalancerExited')?.spec.message).toMatch(new RegExp(`pid ${pid}\\) exited unexpectedly \\(signal SIGKILL\\)`));
    expect(events.find((e) => e.spec.reason === 'LoadBalancerRestarted')?.spec.message).toMatch(new RegExp(`restarted as pid ${restarted.pid}`));
    const describe = await g.cli(['describe', 'service', 'lbnew']);
    expect(describe.stdout).toMatch(new RegExp(`Load balancer: +HAProxy \\(pid ${restarted.pid}\\)`));
  }, 120_000);
});
