import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Instance, InstanceStatus } from '../../core/index.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { bindProbe, DEFAULT_PORT_RANGE, HostPortAllocator, parsePortRange } from './host-ports.js';
import { InstanceRunner } from './instance-runner.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

describe('HostPortAllocator', () => {
  it('hands out distinct ports of its range, skipping reserved ones, and fails with the fix when full', async () => {
    const a = new HostPortAllocator({ range: { first: 30000, last: 30004 }, start: 30000 });
    a.reserve([30001, 30003]);
    expect([await a.allocate(), await a.allocate(), await a.allocate()]).toEqual([30000, 30002, 30004]);
    await expect(a.allocate()).rejects.toThrow(/no free host port in 30000-30004 .*--port-range/);
    a.release([30002]);
    expect(await a.allocate()).toBe(30002);
  });

  it('walks on past a released port instead of reusing it at once', async () => {
    const a = new HostPortAllocator({ range: { first: 30000, last: 30009 }, start: 30000 });
    const first = await a.allocate();
    a.release([first]);
    expect(await a.allocate()).toBe(30001);
  });

  it('never gives the same port to concurrent callers, and skips ports the probe refuses', async () => {
    const probed: number[] = [];
    const a = new HostPortAllocator({
      range: { first: 30000, last: 30099 },
      start: 30000,
      probe: async (port) => {
        probed.push(port);
        await new Promise((r) => setTimeout(r, 1));
        return port % 3 !== 0;
      },
    });
    const got = await Promise.all(Array.from({ length: 40 }, () => a.allocate()));
    expect(new Set(got).size).toBe(40);
    expect(got.some((p) => p % 3 === 0)).toBe(false);
    expect(a.inUse).toBe(40);
  });

  it('defaults below the Linux ephemeral range (32768-60999)', () => {
    expect(DEFAULT_PORT_RANGE.last).toBeLessThan(32768);
  });

  describe('bindProbe', () => {
    let held: Server | undefined;
    afterEach(async () => {
      await new Promise<void>((r) => (held ? held.close(() => r()) : r()));
      held = undefined;
    });

    it('refuses a port something listens on, accepts a free one', async () => {
      held = createServer();
      await new Promise<void>((r) => held!.listen(0, '127.0.0.1', () => r()));
      const port = (held.address() as { port: number }).port;
      const probe = bindProbe('127.0.0.1');
      expect(await probe(port, 'tcp')).toBe(false);
      await expect(new HostPortAllocator({ range: { first: port, last: port }, probe }).allocate()).rejects.toThrow(/no free host port/);
      await new Promise<void>((r) => held!.close(() => r()));
      held = undefined;
      expect(await new HostPortAllocator({ range: { first: port, last: port }, probe }).allocate()).toBe(port);
    });
  });

  it('parses --port-range', () => {
    expect(parsePortRange('20000-29999')).toEqual({ first: 20000, last: 29999 });
    expect(() => parsePortRange('29999-20000')).toThrow(/--port-range must be FIRST-LAST/);
    expect(() => parsePortRange('20000')).toThrow(/--port-range/);
  });
});

describe('InstanceRunner host ports', () => {
  const runners: InstanceRunner[] = [];
  afterEach(() => {
    for (const r of runners.splice(0)) r.detach();
  });

  function run(inst: Instance, driver: FakeDriver, hostPorts: HostPortAllocator): { runner: InstanceRunner; last: () => InstanceStatus | undefined } {
    const statuses: InstanceStatus[] = [];
    const runner = new InstanceRunner({
      instance: inst,
      driver,
      nodeName: 'n1',
      hostIP: '10.0.0.7',
      logger: silentLogger(),
      restartBackoff: { baseMs: 10, capMs: 100 },
      hostPorts,
      onStatus: (_i, s) => statuses.push(structuredClone(s)),
    });
    runners.push(runner);
    runner.poke();
    return { runner, last: () => statuses.at(-1) };
  }

  const twoPorts = (): Instance =>
    anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app', { ports: [{ name: 'http', containerPort: 80 }, { name: 'metrics-http', containerPort: 9090, hostPort: 31999 }] }), aContainer('side')] });

  it('picks the ports before create, injects GANTRY_PORT_<NAME> into every container, keeps them on recreate and frees them on removal', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const create = vi.spyOn(driver, 'create');
    const ports = new HostPortAllocator({ range: { first: 25000, last: 25099 }, start: 25000 });
    const { runner, last } = run(twoPorts(), driver, ports);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const [app, side] = create.mock.calls.map((c) => c[0]);
    expect(app?.publish.map((p) => [p.name, p.hostPort])).toEqual([
      ['http', 25000],
      ['metrics-http', 31999],
    ]);
    for (const launch of [app, side]) {
      expect(launch?.env).toMatchObject({ GANTRY_PORT_HTTP: '25000', GANTRY_PORT_METRICS_HTTP: '31999', GANTRY_HOST_IP: '10.0.0.7' });
    }
    expect(last()?.containers[0]?.hostPorts).toEqual({ http: 25000, 'metrics-http': 31999 });
    // Removed behind the agent's back: recreated with the same ports and hostname.
    await driver.destroy(last()!.containers[0]!.containerId!);
    runner.poke();
    await waitFor(() => create.mock.calls.length >= 4 && last()?.ready === true, 3000, 'recreated');
    const again = create.mock.calls[2]?.[0];
    expect(again?.publish.map((p) => p.hostPort)).toEqual([25000, 31999]);
    expect(again?.hostname).toBe(app?.hostname);
    expect(ports.inUse).toBe(2);
    await runner.remove();
    expect(ports.inUse).toBe(0);
  });

  it('picks other ports when the driver says a picked one was taken meanwhile', async () => {
    // Something outside Gantry holds 25000: the driver's start fails with PortConflictError.
    const driver = new FakeDriver({ nodeName: 'n1', hostPortsInUse: [25000] });
    const create = vi.spyOn(driver, 'create');
    const ports = new HostPortAllocator({ range: { first: 25000, last: 25099 }, start: 25000 });
    const { last } = run(twoPorts(), driver, ports);
    await waitFor(() => last()?.ready, 3000, 'ready');
    expect(create.mock.calls.map((c) => c[0].publish[0]?.hostPort)).toEqual([25000, 25001, undefined]); // app (refused), app, side (publishes nothing)
    expect(last()?.containers[0]?.hostPorts.http).toBe(25001);
  });
});
