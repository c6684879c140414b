// What a newcomer trips over (issue 18), against real dockerd and HAProxy: a second `gantry up` on
// the same data dir refuses before it touches the running one; a killed HAProxy comes back at once
// with events; piping the CLI into `head` ends quietly; a recreated service shows none of the
// deleted one's events; `stop instance` goes through its documented phases.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryEvent, Instance, Service } from '../../src/core/index.js';
import type { LoadBalancerStatus } from '../../src/discovery/haproxy/lb-status.js';
import { freePort, GantryProcesses, REPO } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
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

/** Runs a bash command line in the repository, against this test's Gantry. */
function shellIn(g: GantryProcesses, line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd: REPO, env: { ...process.env, GANTRY_HOME: g.dataDir, GANTRY_ADDR: g.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
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
    const r = await g.fetch(`${g.url}/api/v1/namespaces/default/services/${service}/loadbalancer`, { headers: { authorization: `Bearer ${g.token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as LoadBalancerStatus;
  }

  async function serving(service: string, n: number): Promise<LoadBalancerStatus> {
    return waitFor(`${n} servers UP behind ${service}`, async () => {
      const s = await lbStatus(service);
      return s.entries[0]?.state === 'Serving' && s.entries[0].servers.filter((x) => x.state.startsWith('UP')).length === n ? s : undefined;
    }, 90_000, 100);
  }

  const shell = (line: string) => shellIn(g, line);

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

  it('`gantry get events | head -1` (and a reader that leaves at once) exits 0 without an EPIPE trace', async () => {
    for (const reader of ['head -1', 'true']) {
      const r = await shell(`set -o pipefail; "${process.execPath}" bin/gantry get events | ${reader}`);
      expect({ reader, code: r.code, stderr: r.stderr }).toEqual({ reader, code: 0, stderr: '' });
    }
  }, 60_000);

  it('a deleted and recreated service shows none of the old one’s events', async () => {
    const yaml = webService('again', 1, image);
    expect((await g.apply(yaml)).code).toBe(0);
    await waitFor('again ready', async () => (await instancesOf(g, 'again')).some((i) => i.status?.ready === true), 90_000);
    const old = await g.getJson<Service>(['get', 'service', 'again']);
    await waitFor('events of the first again', async () => (await eventsFor('service/again')).length > 0, 30_000);
    expect((await g.cli(['delete', 'service', 'again'])).code).toBe(0);
    await waitFor('again’s instances to go', async () => (await instancesOf(g, 'again')).length === 0, 90_000);
    expect((await g.apply(yaml)).code).toBe(0);
    await waitFor('the new again ready', async () => (await instancesOf(g, 'again')).some((i) => i.status?.ready === true), 90_000);
    const now = await g.getJson<Service>(['get', 'service', 'again']);
    expect(now.metadata.uid).not.toBe(old.metadata.uid);
    // The old events are still stored (same name), but belong to the old uid.
    expect((await eventsFor('service/again')).some((e) => e.spec.involved.uid === old.metadata.uid)).toBe(true);
    const mine = await g.getJson<{ items: GantryEvent[] }>(['get', 'events', '--for', 'service/again']);
    expect(mine.items.length).toBeGreaterThan(0);
    expect(mine.items.every((e) => e.spec.involved.uid === now.metadata.uid)).toBe(true);
    const described = (await g.cli(['describe', 'service', 'again'])).stdout;
    const oldTimes = (await eventsFor('service/again')).filter((e) => e.spec.involved.uid === old.metadata.uid);
    expect(oldTimes.length).toBeGreaterThan(0);
    // describe prints ages, not names: the new one's events number exactly what --for found.
    const rows = described.slice(described.indexOf('Events:')).split('\n').filter((l) => /^ {2}(Normal|Warning) /.test(l));
    expect(rows).toHaveLength(Math.min(mine.items.length, 10));
    expect((await g.cli(['delete', 'service', 'again'])).code).toBe(0);
  }, 240_000);

  it('stop instance: Draining, Stopping, Stopped (phase Succeeded), no Killing; the service replaces it', async () => {
    expect((await g.apply(webService('stopme', 1, image))).code).toBe(0);
    const [inst] = await waitFor('stopme ready', async () => {
      const l = await instancesOf(g, 'stopme');
      return l.some((i) => i.status?.ready === true) ? l : undefined;
    }, 90_000);
    const name = inst!.metadata.name;
    const r = await g.cli(['stop', 'instance', name, '--reason', 'try it']);
    expect(r.stdout).toBe(`instance/${name} stopping (try it)\n`);
    await waitFor('a replacement, and the stopped one gone', async () => {
      const l: Instance[] = await instancesOf(g, 'stopme');
      return l.length === 1 && l[0]!.metadata.name !== name && l[0]!.status?.ready === true;
    }, 90_000);
    const events = await waitFor('the Stopped event', async () => {
      const e = await g.getJson<{ items: GantryEvent[] }>(['get', 'events', '--for', `instance/${name}`]);
      return e.items.some((x) => x.spec.reason === 'Stopped') ? e.items : undefined;
    }, 30_000);
    const reasons = events.map((e) => e.spec.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Draining', 'Stopping', 'Stopped']));
    expect(reasons).not.toContain('Killing');
    expect(events.find((e) => e.spec.reason === 'Stopped')?.spec.message).toMatch(/^phase Succeeded: stopped: try it/);
    // The human view of the same, after the instance is gone.
    expect((await g.cli(['events', '--for', `instance/${name}`])).stdout).toMatch(/Stopped +instance\/\S+ +phase Succeeded/);
    expect((await g.cli(['delete', 'service', 'stopme'])).code).toBe(0);
  }, 240_000);
});
