// Against the real dockerd on this machine. Every container carries a cluster id unique to this
// run and io.gantry.test=1, and afterAll removes them all.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../../../test/support/test-image.js';
import { LABELS, type ContainerState, type DriverEvent } from '../driver.js';
import { aLaunch, aSidecar } from '../test-helpers.js';
import { DockerDriver } from './docker-driver.js';

const SOCKET = '/var/run/docker.sock';
const docker = new Docker({ socketPath: SOCKET });
const dockerAnswers = await docker.ping().then(() => true, () => false);
if (!dockerAnswers) console.warn(`docker-driver tests SKIPPED: no Docker daemon answers on ${SOCKET}`);

const clusterId = `test-${randomBytes(4).toString('hex')}`;
const aDriver = (nodeName: string) =>
  new DockerDriver({ clusterId, nodeName, publishAddress: '127.0.0.1', socketPath: SOCKET, extraLabels: { 'io.gantry.test': '1' } });

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!dockerAnswers)('DockerDriver against dockerd', () => {
  const driver = aDriver('node-a');
  const otherNode = aDriver('node-b');
  let image = '';
  let main = '';
  let sidecar = '';
  let mainState: ContainerState;
  const ports = [{ name: 'http', containerPort: 8080, protocol: 'tcp' as const }];

  beforeAll(async () => {
    image = await ensureTestImage();
    await driver.ensureImage(image);
    main = await driver.create(
      aLaunch({
        instance: { namespace: 'default', name: 'web-t1', uid: 'uid-t1' },
        hostname: 'web-t1',
        env: { GREETING: 'hello-from-main' },
        publish: ports,
        spec: {
          name: 'main',
          image,
          ports,
          resources: { cpu: '250m', memory: '64Mi' },
          command: ['sh', '-c', 'echo $GREETING; echo oops >&2; echo "<h1>ok</h1>" > /www/index.html; exec httpd -f -p 8080 -h /www'],
        },
      }),
    );
    sidecar = await driver.create(
      aSidecar(main, {
        instance: { namespace: 'default', name: 'web-t1', uid: 'uid-t1' },
        spec: { name: 'probe', image, command: ['sh', '-c', 'until wget -qO- http://127.0.0.1:8080/; do sleep 0.2; done; exec sleep 1000'] },
      }),
    );
    mainState = await driver.start(main);
    await driver.start(sidecar);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([driver.close(), otherNode.close()]);
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${clusterId}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  }, 60_000);

  it('starts the first container with its ports published on 127.0.0.1 and reachable', async () => {
    expect(mainState).toMatchObject({ running: true, container: 'main', hostIP: '127.0.0.1', instance: { name: 'web-t1', uid: 'uid-t1' } });
    const port = mainState.hostPorts.http;
    expect(port).toBeGreaterThan(0);
    const body = await eventually(async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    }, 'httpd to answer');
    expect(body).toContain('<h1>ok</h1>');
  });

  it('lets the second container reach the first on localhost (one network namespace)', async () => {
    const lines = await eventually(async () => {
      const l = await collect(driver.logs(sidecar, { follow: false }));
      return l.some((x) => x.includes('<h1>ok</h1>')) ? l : undefined;
    }, 'the sidecar to fetch the page');
    expect(lines.join('\n')).toContain('<h1>ok</h1>');
  });

  it('maps published host ports back to names on inspect, only on the first container', async () => {
    const s = await driver.inspect(main);
    expect(s?.hostPorts).toEqual({ http: mainState.hostPorts.http });
    expect(s?.pid).toBeGreaterThan(0);
    expect((await driver.inspect(sidecar))?.hostPorts).toEqual({});
    expect(await driver.inspect('0123456789ab-no-such-container')).toBeUndefined();
  });

  it('sets init, limits, no privilege, no restart policy and the joined network', async () => {
    const m = await docker.getContainer(main).inspect();
    expect(m.HostConfig).toMatchObject({
      Init: true,
      Memory: 64 * 2 ** 20,
      MemorySwap: 64 * 2 ** 20,
      NanoCpus: 250_000_000,
      PidsLimit: 1024,
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    });
    expect(m.Config.Hostname).toBe('web-t1');
    expect(m.Config.Labels).toMatchObject({ 'io.gantry.test': '1', [LABELS.node]: 'node-a', [LABELS.cluster]: clusterId });
    expect(m.Name).toMatch(/^\/gantry-default-web-t1-main-[a-z0-9]{4}$/);
    const s = await docker.getContainer(sidecar).inspect();
    expect(s.HostConfig.NetworkMode).toBe(`container:${main}`);
  });

  it('probes http by port name and number, and reports what failed', async () => {
    await eventually(async () => ((await driver.probe(mainState, ports, { http: { port: 'http', path: '/' } }, 2000)).ok ? true : undefined), 'http probe ok');
    expect(await driver.probe(mainState, ports, { http: { port: 8080, path: '/index.html' } }, 2000)).toEqual({ ok: true });
    expect(await driver.probe(mainState, ports, { http: { port: 'http', path: '/missing' } }, 2000)).toEqual({ ok: false, message: 'GET /missing -> 404' });
    expect(await driver.probe(mainState, ports, { http: { port: 9999 } }, 2000)).toMatchObject({ ok: false, message: expect.stringContaining('port 9999 is not declared') });
  });

  it('probes tcp and exec', async () => {
    expect(await driver.probe(mainState, ports, { tcp: { port: 'http' } }, 2000)).toEqual({ ok: true });
    const closed = { ...mainState, hostPorts: { http: 1 } };
    expect(await driver.probe(closed, ports, { tcp: { port: 'http' } }, 2000)).toEqual({ ok: false, message: 'connect 127.0.0.1:1: ECONNREFUSED' });
    expect(await driver.probe(mainState, ports, { exec: { command: ['test', '-f', '/www/index.html'] } }, 5000)).toEqual({ ok: true });
    expect(await driver.probe(mainState, ports, { exec: { command: ['sh', '-c', 'echo not ready; exit 1'] } }, 5000)).toEqual({ ok: false, message: 'exit code 1: not ready' });
  });

  it('execs commands with their exit code and output, and times out', async () => {
    expect(await driver.exec(main, ['sh', '-c', 'echo out; echo err >&2; exit 5'], 5000)).toEqual({ exitCode: 5, output: expect.stringMatching(/out\n[\s\S]*err\n|err\n[\s\S]*out\n/) });
    expect(await driver.exec(main, ['cat', '/www/index.html'], 5000)).toEqual({ exitCode: 0, output: '<h1>ok</h1>\n' });
    await expect(driver.exec(main, ['sleep', '5'], 300)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('timed out after 300ms') });
  });

  it('reads stdout and stderr logs, honours tail, and ends a follow on abort', async () => {
    const all = await collect(driver.logs(main, { follow: false }));
    expect(all).toEqual(expect.arrayContaining(['hello-from-main', 'oops']));
    expect(await collect(driver.logs(main, { follow: false, tail: 1 }))).toHaveLength(1);
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const line of driver.logs(main, { follow: true, signal: ac.signal })) {
      seen.push(line);
      if (line === 'hello-from-main') ac.abort();
    }
    expect(seen).toContain('hello-from-main');
  });

  it('reports when a restarted container\'s previous run ended, and its log up to then holds the earlier runs alone', async () => {
    // Docker stamps a new run's first line before it records StartedAt, often by a millisecond:
    // cutting at startedAt let the new run into --previous. Several rounds, since it is a race;
    // the line comes first thing, as in the e2e test that caught it.
    const id = await driver.create(aLaunch({
      instance: { namespace: 'default', name: 'runs-t1', uid: 'uid-runs' },
      spec: { name: 'main', image, command: ['sh', '-c', 'echo run; exec sleep 1000'] },
    }));
    for (let run = 1; run <= 4; run++) {
      await driver.start(id);
      const st = await eventually(async () => { const s = await driver.inspect(id); return s?.running ? s : undefined; }, `run ${run}`);
      await eventually(async () => ((await collect(driver.logs(id, { follow: false }))).length === run ? true : undefined), `run ${run}'s line`);
      const earlier = Array<string>(run - 1).fill('run');
      if (run === 1) expect(st.lastFinishedAt).toBeUndefined();
      else expect(await collect(driver.logs(id, { follow: false, until: st.lastFinishedAt }))).toEqual(earlier);
      await driver.stop(id, 0);
      const stopped = await driver.inspect(id);
      expect(stopped?.lastFinishedAt).toBeUndefined();
      expect(stopped?.finishedAt).toBeDefined();
    }
    await driver.destroy(id);
  });

  it('recovers its own containers by label, never another node\'s', async () => {
    const mine = (await driver.recover()).map((s) => s.id);
    expect(mine).toEqual(expect.arrayContaining([main, sidecar]));
    expect(await otherNode.recover()).toEqual([]);
    expect(await otherNode.inspect(main)).toBeUndefined();
  });

  it('yields a die event for a killed container, to its own node only', async () => {
    const id = await driver.create(aLaunch({ instance: { namespace: 'default', name: 'job-t2', uid: 'uid-t2' }, spec: { name: 'main', image, command: ['sleep', '1000'] } }));
    const ac = new AbortController();
    const mineSeen: DriverEvent[] = [];
    const otherSeen: DriverEvent[] = [];
    const other = (async () => {
      for await (const e of otherNode.events(ac.signal)) otherSeen.push(e);
    })();
    const mine = (async () => {
      for await (const e of driver.events(ac.signal)) {
        mineSeen.push(e);
        if (e.id === id && e.action === 'die') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 300)); // let both subscriptions reach dockerd
    await driver.start(id);
    await docker.getContainer(id).kill();
    await Promise.race([mine, new Promise((_, rej) => setTimeout(() => rej(new Error('no die event within 10s')), 10_000))]);
    await other;
    expect(mineSeen).toEqual(expect.arrayContaining([{ id, action: 'start', instanceUid: 'uid-t2' }, { id, action: 'die', instanceUid: 'uid-t2' }]));
    expect(otherSeen.filter((e) => e.id === id)).toEqual([]);
    expect(await driver.inspect(id)).toMatchObject({ running: false, exitCode: 137 });
  });

  it('stops and destroys idempotently, and gives unique names to recreated containers', async () => {
    const launch = aLaunch({ instance: { namespace: 'default', name: 'job-t3', uid: 'uid-t3' }, spec: { name: 'main', image, command: ['sleep', '1000'] } });
    const a = await driver.create(launch);
    const b = await driver.create(launch);
    expect(a).not.toBe(b);
    await driver.start(a);
    await driver.stop(a, 1);
    await driver.stop(a, 1);
    expect(await driver.inspect(a)).toMatchObject({ running: false });
    await driver.destroy(a);
    await driver.destroy(a);
    await driver.stop(a, 1);
    expect(await driver.inspect(a)).toBeUndefined();
    await driver.destroy(b);
  });

  it('fails ensureImage for an image that is neither local nor pullable, with NOT_FOUND', async () => {
    await expect(driver.ensureImage('gantry-test/does-not-exist:0')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^image "gantry-test\/does-not-exist:0" not found locally and could not be pulled: .+/),
    });
  });

  it('fingerprints the host', async () => {
    const f = await driver.fingerprint();
    expect(f.driver).toBe('docker');
    expect(f.cpu).toBeGreaterThanOrEqual(1000);
    expect(f.cpu % 1000).toBe(0);
    expect(f.memory).toBeGreaterThan(0);
    expect(f.info.engineVersion).toMatch(/^\d+\./);
  });
});
