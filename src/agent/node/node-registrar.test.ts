import { describe, expect, it } from 'vitest';
import { API_VERSION, isAppError, type Manifest } from '../../core/index.js';
import { MIN_HEARTBEAT_TIMEOUT_MS, NodeRegistrar, heartbeatDelay } from './node-registrar.js';
import { FakeGantryClient, silentLogger } from '../test-helpers.js';

function aRegistrar(client: FakeGantryClient, heartbeatIntervalMs = 1000): NodeRegistrar {
  return new NodeRegistrar({
    client,
    nodeName: 'n1',
    labels: { rack: 'a' },
    address: '10.0.0.5',
    agentUrl: 'http://127.0.0.1:7071',
    fingerprint: { driver: 'fake', cpu: 4000, memory: 8 * 2 ** 30, info: { os: 'fake', kernel: 'fake', engineVersion: 'fake-1', cgroup: 'none' } },
    heartbeatIntervalMs,
    logger: silentLogger(),
    random: () => 0,
  });
}

/** What an operator applies to cordon the node (`gantry cordon n1`). */
const cordon = (address: string): Manifest => ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1', labels: {} }, spec: { address, unschedulable: true } });

describe('NodeRegistrar.register', () => {
  it('keeps what an operator set in the Node spec', async () => {
    const client = new FakeGantryClient();
    await client.apply(cordon('10.0.0.1'));
    await aRegistrar(client).register();
    expect(client.nodes.get('n1')?.spec).toMatchObject({ address: '10.0.0.5', unschedulable: true });
    expect(client.nodes.get('n1')?.status?.ready).toBe(true);
  });

  it('does not lose an operator change written between its read and its write', async () => {
    const client = new FakeGantryClient();
    await client.apply({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1', labels: {} }, spec: { address: '10.0.0.1' } });
    let raced = false;
    client.afterGet = async () => {
      if (raced) return;
      raced = true;
      await client.apply(cordon('10.0.0.1'));
    };
    await aRegistrar(client).register();
    expect(client.nodes.get('n1')?.spec).toMatchObject({ address: '10.0.0.5', unschedulable: true });
    expect(client.nodes.get('n1')?.metadata.labels).toEqual({ rack: 'a' });
  });

  it('gives up with CONFLICT when the Node keeps changing under it', async () => {
    const client = new FakeGantryClient();
    await client.apply(cordon('10.0.0.1'));
    client.afterGet = async () => {
      await client.apply(cordon('10.0.0.1'));
    };
    const error = await aRegistrar(client).register().catch((e: unknown) => e);
    expect(isAppError(error, 'CONFLICT')).toBe(true);
    expect(client.nodes.get('n1')?.spec.address).toBe('10.0.0.1');
  });
});

describe('NodeRegistrar.run', () => {
  const waitUntil = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(ok(), what).toBe(true);
  };

  it('keeps heartbeating while a status write waits for the server', async () => {
    const client = new FakeGantryClient();
    const registrar = aRegistrar(client, 10);
    const stop = new AbortController();
    const running = registrar.run(stop.signal);
    await waitUntil('registered', () => client.nodes.get('n1')?.status?.ready === true);
    // The next status write hangs until released (a store queue tens of seconds deep).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const update = client.updateNodeStatus.bind(client);
    let writes = 0;
    client.updateNodeStatus = async (...args) => {
      writes++;
      await released;
      return update(...args);
    };
    registrar.setUsage({ cpu: 100, memory: 2 ** 20, containers: 1, at: new Date().toISOString() });
    const before = client.heartbeats;
    await waitUntil('five heartbeats while the write waits', () => client.heartbeats >= before + 5);
    expect(writes).toBe(1);
    release();
    await registrar.statusWritten();
    expect(client.nodes.get('n1')?.status?.usage?.cpu).toBe(100);
    stop.abort();
    await running;
  });

  it('skips heartbeats while the server takes its reports as heartbeats, and resumes when they stop', async () => {
    const client = new FakeGantryClient();
    const registrar = aRegistrar(client, 50);
    const stop = new AbortController();
    const running = registrar.run(stop.signal);
    await waitUntil('registered and heartbeating', () => client.heartbeats >= 1);
    // Reports answered with Gantry-Lease: renewed every 10 ms, for 500 ms (ten intervals).
    const before = client.heartbeats;
    for (let i = 0; i < 50; i++) {
      client.leaseRenewedAt = Date.now();
      await new Promise((r) => setTimeout(r, 10));
    }
    // At most the heartbeat that was already due when the first report came.
    expect(client.heartbeats - before).toBeLessThanOrEqual(1);
    const quiet = client.heartbeats;
    await waitUntil('heartbeats again once the reports stop', () => client.heartbeats >= quiet + 2);
    stop.abort();
    await running;
  });

  it('heartbeats no more often than the server asks', async () => {
    const client = new FakeGantryClient();
    const stop = new AbortController();
    const running = aRegistrar(client, 10).run(stop.signal);
    await waitUntil('registered and heartbeating', () => client.heartbeats >= 1);
    client.advisedHeartbeatIntervalMs = 200;
    const before = client.heartbeats;
    await new Promise((r) => setTimeout(r, 600));
    // Every 160-200 ms instead of every 8-10 ms: a few, where its own interval would give ~60.
    expect(client.heartbeats - before).toBeGreaterThanOrEqual(1);
    expect(client.heartbeats - before).toBeLessThanOrEqual(5);
    stop.abort();
    await running;
  });

  it('gives each heartbeat a timeout of its interval (at least MIN_HEARTBEAT_TIMEOUT_MS), not the client\'s 30 s', async () => {
    for (const [interval, timeout] of [[10, MIN_HEARTBEAT_TIMEOUT_MS], [MIN_HEARTBEAT_TIMEOUT_MS + 100, MIN_HEARTBEAT_TIMEOUT_MS + 100]] as const) {
      const client = new FakeGantryClient();
      const stop = new AbortController();
      const running = aRegistrar(client, interval).run(stop.signal);
      for (let i = 0; i < 100 && client.heartbeats < 1; i++) await new Promise((r) => setTimeout(r, 50));
      stop.abort();
      await running;
      expect(client.heartbeatTimeouts[0]).toBe(timeout);
    }
  });

  it('writes the status against the revision it read, and reads again after a 409', async () => {
    const client = new FakeGantryClient();
    const registrar = aRegistrar(client, 10);
    const stop = new AbortController();
    const running = registrar.run(stop.signal);
    await waitUntil('registered', () => client.nodes.get('n1')?.status?.ready === true);
    // The node controller marks the node not ready between the agent's read and its write.
    let raced = false;
    client.afterGet = async () => {
      if (raced) return;
      raced = true;
      const node = client.nodes.get('n1')!;
      await client.updateNodeStatus('n1', { ...node.status!, ready: false });
    };
    registrar.setUsage({ cpu: 100, memory: 2 ** 20, containers: 1, at: new Date().toISOString() });
    await waitUntil('usage written', () => client.nodes.get('n1')?.status?.usage?.cpu === 100);
    // Written on a second read: the not-ready mark was not overwritten by the stale copy.
    expect(client.nodes.get('n1')?.status?.ready).toBe(false);
    stop.abort();
    await running;
  });
});

describe('heartbeatDelay', () => {
  it('spreads heartbeats over the last 20% of the interval, never later than the interval', () => {
    expect(heartbeatDelay(5000, 0, () => 0)).toBe(5000);
    expect(heartbeatDelay(5000, 0, () => 0.999)).toBeCloseTo(4001, 0);
    const delays = Array.from({ length: 50 }, (_, i) => heartbeatDelay(5000, 0, () => i / 50));
    expect(new Set(delays).size).toBe(50);
  });

  it('backs retries off, jittered by up to half, capped at the interval', () => {
    expect(heartbeatDelay(5000, 1, () => 0)).toBe(500);
    expect(heartbeatDelay(5000, 1, () => 0.999)).toBeCloseTo(250.25, 1);
    expect(heartbeatDelay(5000, 3, () => 0)).toBe(2000);
    expect(heartbeatDelay(5000, 8, () => 0)).toBe(5000);
    expect(heartbeatDelay(5000, 8, () => 0.5)).toBe(3750);
  });
});
