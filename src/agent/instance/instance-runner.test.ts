import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Instance, InstanceStatus } from '../../core/index.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { InstanceRunner } from './instance-runner.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

const runners: InstanceRunner[] = [];
afterEach(() => {
  for (const r of runners.splice(0)) r.detach();
});

function run(inst: Instance, driver: FakeDriver): { runner: InstanceRunner; statuses: InstanceStatus[]; last: () => InstanceStatus | undefined } {
  const statuses: InstanceStatus[] = [];
  const runner = new InstanceRunner({
    instance: inst,
    driver,
    nodeName: 'n1',
    hostIP: '127.0.0.1',
    logger: silentLogger(),
    restartBackoff: { baseMs: 20, capMs: 1000 },
    onStatus: (_i, s) => statuses.push(structuredClone(s)),
  });
  runners.push(runner);
  runner.poke();
  return { runner, statuses, last: () => statuses.at(-1) };
}

const idOf = (s: InstanceStatus | undefined, name = 'app'): string | undefined => s?.containers.find((c) => c.name === name)?.containerId;

describe('InstanceRunner', () => {
  it('creates containers in order: the first publishes every port, the others join its network', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const create = vi.spyOn(driver, 'create');
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }], env: { A: '1' } }), aContainer('metrics', { ports: [{ name: 'prom', containerPort: 9090 }] })] });
    const { last } = run(inst, driver);
    await waitFor(() => last()?.phase === 'Running', 2000, 'Running');
    const [first, second] = create.mock.calls.map((c) => c[0]);
    expect(first?.publish.map((p) => p.name)).toEqual(['http', 'prom']);
    expect(first?.hostname).toBe(inst.metadata.name);
    expect(first?.env).toMatchObject({ A: '1', GANTRY_INSTANCE: inst.metadata.name, GANTRY_SERVICE: 'web', GANTRY_NAMESPACE: 'default', GANTRY_NODE: 'n1', GANTRY_HOST_IP: '127.0.0.1' });
    expect(second?.networkOf).toBe(idOf(last()));
    expect(second?.publish).toEqual([]);
    expect(last()?.ready).toBe(true);
  });

  it('restarts a crashed container with growing back-off and counts restarts', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, statuses, last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const id = idOf(last())!;
    const messages: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const crashedAt = Date.now();
      driver.crash(id, 1);
      runner.poke(); // what the agent does on the driver's die event
      await waitFor(() => last()?.containers[0]?.restartCount === n && last()?.ready, 2000, `restart ${n}`);
      expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(20 * 2 ** (n - 1) - 2);
      messages.push([...statuses].reverse().find((s) => s.containers[0]?.message?.startsWith('back-off'))?.containers[0]?.message ?? '');
    }
    expect(messages).toEqual([
      'back-off 20ms restarting failed container',
      'back-off 40ms restarting failed container',
      'back-off 80ms restarting failed container',
    ]);
    expect(idOf(last())).toBe(id);
    expect(statuses.some((s) => s.phase === 'Starting' && !s.ready && s.containers[0]?.state === 'waiting')).toBe(true);
  });

  it('restarting the first container recreates the others in its new network namespace', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const sidecarBefore = idOf(last(), 'sidecar');
    driver.crash(idOf(last())!, 2);
    runner.poke();
    await waitFor(() => last()?.ready && last()?.containers[0]?.restartCount === 1, 2000, 'restarted');
    expect(idOf(last(), 'sidecar')).not.toBe(sidecarBefore);
    expect(last()?.containers[1]?.restartCount).toBe(1);
    // The replaced sidecar is kept, dead and retired, for its logs (the dead-container GC removes it).
    expect(await driver.inspect(sidecarBefore!)).toMatchObject({ running: false, retired: true });
    expect(runner.owns(sidecarBefore!)).toBe(true);
    // Only the latest replaced one per container is kept: a crash loop cannot pile them up.
    driver.crash(idOf(last())!, 2);
    runner.poke();
    await waitFor(() => last()?.ready && last()?.containers[0]?.restartCount === 2, 2000, 'restarted again');
    expect(await driver.inspect(sidecarBefore!)).toBeUndefined();
    expect(driver.list().filter((c) => c.retired)).toHaveLength(1);
  });

  it('restartPolicy Never: a failed container fails the instance and is not restarted', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const start = vi.spyOn(driver, 'start');
    const { runner, last } = run(anInstance('web-a1b2c', { node: 'n1', spec: { restartPolicy: 'Never' }, containers: [aContainer('app'), aContainer('sidecar')] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    driver.crash(idOf(last(), 'sidecar')!, 3);
    runner.poke();
    const failed = await waitFor(() => (last()?.phase === 'Failed' ? last() : undefined), 2000, 'Failed');
    expect(failed).toMatchObject({ ready: false, reason: 'ContainerFailed' });
    expect(failed.message).toContain('sidecar');
    expect(failed.containers[1]).toMatchObject({ state: 'exited', exitCode: 3 });
    await new Promise((r) => setTimeout(r, 100));
    expect(start).toHaveBeenCalledTimes(2);
  });

  it('restartPolicy OnFailure: containers that all exit 0 make the instance Succeeded', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, last } = run(anInstance('web-a1b2c', { node: 'n1', spec: { restartPolicy: 'OnFailure' }, containers: [aContainer()] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    driver.crash(idOf(last())!, 0);
    runner.poke();
    await waitFor(() => last()?.phase === 'Succeeded', 2000, 'Succeeded');
    expect(last()?.containers[0]?.restartCount).toBe(0);
  });

  it('a health check failing `retries` times makes the instance not ready and restarts the container', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const probe = vi.spyOn(driver, 'probe');
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }], healthCheck: { http: { port: 'http', path: '/healthz' }, interval: '10ms', timeout: '5ms', retries: 3, startPeriod: '0s' } })] });
    const { statuses, last } = run(inst, driver);
    await waitFor(() => last()?.ready, 2000, 'ready after a passing probe');
    expect(statuses.some((s) => s.phase === 'Running' && !s.ready)).toBe(true); // running is not yet ready
    driver.setProbeResult(inst.metadata.name, false);
    const probesBefore = probe.mock.calls.length;
    const unready = await waitFor(() => (last()?.ready === false ? last() : undefined), 2000, 'not ready');
    expect(probe.mock.calls.length - probesBefore).toBeGreaterThanOrEqual(3);
    expect(unready.containers[0]?.message).toMatch(/health check failed|unhealthy/);
    await waitFor(() => last()?.containers[0]?.restartCount === 1, 2000, 'restarted');
    driver.setProbeResult(inst.metadata.name, true);
    await waitFor(() => last()?.ready, 2000, 'ready again');
  });

  it('a health check that fails while the runtime does not answer restarts nothing; probing goes on', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const stop = vi.spyOn(driver, 'stop');
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }], healthCheck: { http: { port: 'http', path: '/' }, interval: '10ms', timeout: '5ms', retries: 2, startPeriod: '0s' } })] });
    const probe = vi.spyOn(driver, 'probe');
    const { last } = run(inst, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const id = idOf(last());
    // dockerd went away (its port proxy with it): probes fail, and so does the ping that would confirm a restart.
    driver.setProbeResult(inst.metadata.name, false);
    driver.setDown(true);
    const probesBefore = probe.mock.calls.length;
    await waitFor(() => probe.mock.calls.length - probesBefore >= 6, 2000, 'three rounds of failing probes');
    driver.setDown(false);
    driver.setProbeResult(inst.metadata.name, true);
    await waitFor(() => last()?.ready, 2000, 'ready again');
    expect(stop).not.toHaveBeenCalled();
    expect(idOf(last())).toBe(id);
    expect(last()?.containers[0]?.restartCount).toBe(0);
  });

  it('runtimeLost pauses health checks: no verdict from the outage, and runtimeRecovered starts them again', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }], healthCheck: { http: { port: 'http', path: '/' }, interval: '10ms', timeout: '5ms', retries: 2, startPeriod: '0s' } })] });
    const probe = vi.spyOn(driver, 'probe');
    const { runner, last } = run(inst, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    runner.runtimeLost();
    driver.setProbeResult(inst.metadata.name, false);
    const probesBefore = probe.mock.calls.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(probe.mock.calls.length - probesBefore).toBeLessThanOrEqual(1); // at most one already in flight
    expect(last()?.ready).toBe(true);
    runner.runtimeRecovered();
    // Now they count again: two failures make it unhealthy and it is restarted.
    await waitFor(() => last()?.containers[0]?.restartCount === 1, 2000, 'restarted once probes resumed');
  });

  it('a missing image leaves the instance Pending with a message naming the image, retried with back-off', async () => {
    const driver = new FakeDriver({ nodeName: 'n1', missingImages: ['ghcr.io/acme/nope:1'] });
    const ensure = vi.spyOn(driver, 'ensureImage');
    const { last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { image: 'ghcr.io/acme/nope:1' })] }), driver);
    const pending = await waitFor(() => (last()?.reason === 'ImageNotFound' ? last() : undefined), 2000, 'ImageNotFound');
    expect(pending.phase).toBe('Pending');
    expect(pending.containers[0]?.message).toContain('ghcr.io/acme/nope:1');
    expect(pending.containers[0]?.state).toBe('waiting');
    await new Promise((r) => setTimeout(r, 330));
    // 20 + 40 + 80 + 160 ms: about five attempts in 330 ms, not one every few milliseconds.
    expect(ensure.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(ensure.mock.calls.length).toBeLessThanOrEqual(6);
    expect(last()?.containers[0]?.message).toMatch(/retrying in (80|160|320)ms/);
  });

  it('remove() stops and destroys every container', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    await runner.remove();
    expect(await driver.recover()).toEqual([]);
  });

  it('remove() force-removes a container even when stopping it fails', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    vi.spyOn(driver, 'stop').mockRejectedValue(new Error('stop timed out'));
    await runner.remove();
    expect(await driver.recover()).toEqual([]);
  });

  it('a container created while the instance is being removed is destroyed and never started', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const create = driver.create.bind(driver);
    vi.spyOn(driver, 'create').mockImplementation(async (launch) => {
      const id = await create(launch);
      await gate; // Docker is slow to answer: the container exists, the runner does not know yet
      return id;
    });
    const start = vi.spyOn(driver, 'start');
    const { runner } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] }), driver);
    await waitFor(async () => (await driver.recover()).length === 1, 2000, 'the container to be created');
    const removed = runner.remove();
    release();
    await removed;
    expect(start).not.toHaveBeenCalled();
    expect(await driver.recover()).toEqual([]);
  });

  it('detached while a container starts: that container keeps running and no driver call follows', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const start = driver.start.bind(driver);
    vi.spyOn(driver, 'start').mockImplementation(async (id) => {
      const state = await start(id);
      await gate; // the agent stops while Docker answers
      return state;
    });
    const { runner, statuses } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] }), driver);
    await waitFor(async () => (await driver.recover()).some((c) => c.running), 2000, 'the first container to start');
    const calls = vi.spyOn(driver, 'create');
    const inspect = vi.spyOn(driver, 'inspect');
    const destroy = vi.spyOn(driver, 'destroy');
    const reported = statuses.length;
    runner.detach();
    release();
    await runner.idle();
    runner.poke();
    await runner.idle();
    expect(calls).not.toHaveBeenCalled();
    expect(inspect).not.toHaveBeenCalled();
    expect(destroy).not.toHaveBeenCalled();
    expect(statuses).toHaveLength(reported);
    expect((await driver.recover()).map((c) => [c.container, c.running])).toEqual([['app', true]]);
  });
});
