// Heartbeats with node leases (what the server runs): a heartbeat renews the lease in memory and
// writes the store only when the node turns ready or its stored heartbeat is a minute old, after
// its answer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getCondition, type NodeStatus } from '../core/index.js';
import { NodeController } from '../controllers/node/node-controller.js';
import { NodeLeases } from '../runtime/node-leases.js';
import { heartbeat, HeartbeatWrites } from './heartbeats.js';
import type { Store } from '../store/store.js';
import { pino } from 'pino';
import { startHarness, type Harness } from './test-helpers.js';
import { EventRecorder } from '../runtime/event-recorder.js';
import { aNode } from '../core/test-builders.js';

let h: Harness;
/** The harness's heartbeat writes: `beat()` waits for them, so the store can be read after it. */
let writes: HeartbeatWrites;
beforeEach(() => {
  writes = new HeartbeatWrites(pino({ level: 'silent' }));
});
afterEach(async () => {
  await h.close();
});

const T0 = Date.parse('2030-01-02T03:04:05.000Z');

/** A clock the test moves; `date` is what the API reads. */
function aClock() {
  const c = { ms: T0, date: () => new Date(c.ms), advance: (ms: number) => void (c.ms += ms) };
  return c;
}

const aStatus = (over: Partial<NodeStatus> = {}): NodeStatus => ({
  ready: true,
  capacity: { cpu: 4000, memory: 8 * 2 ** 30 },
  driver: 'fake',
  conditions: [{ type: 'Ready', status: 'True', reason: 'AgentRegistered', lastTransitionTime: new Date(T0).toISOString() }],
  lastHeartbeat: new Date(T0).toISOString(),
  ...over,
});

async function registered(status: NodeStatus): Promise<void> {
  await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
  const res = await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status } });
  expect(res.statusCode).toBe(200);
}

const beat = async () => {
  const res = await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
  await writes.idle();
  return res;
};
const storedNode = async () => (await h.store.get('Node', undefined, 'n1'))!;

describe('heartbeat with leases', () => {
  it('renews the lease of a ready node with a recent stored heartbeat and writes nothing', async () => {
    const clock = aClock();
    const leases = new NodeLeases();
    h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
    await registered(aStatus());
    const revision = await h.store.currentRevision();
    clock.advance(5000);
    expect((await beat()).statusCode).toBe(204);
    expect(await h.store.currentRevision()).toBe(revision);
    expect(leases.lastRenewed('n1')).toBe(T0 + 5000);
  });

  it('persists the heartbeat once the stored one is a persist interval old', async () => {
    const clock = aClock();
    h = await startHarness({ now: clock.date, leases: new NodeLeases(), heartbeatPersistMs: 30_000, heartbeatWrites: writes });
    await registered(aStatus());
    clock.advance(29_999);
    await beat();
    expect((await storedNode()).status?.lastHeartbeat).toBe(new Date(T0).toISOString());
    clock.advance(1);
    await beat();
    const node = await storedNode();
    expect(node.status?.lastHeartbeat).toBe(clock.date().toISOString());
    expect(node.status?.conditions).toEqual(aStatus().conditions);
  });

  it('writes ready=true with Ready=True NodeHeartbeating when the node is not ready', async () => {
    const clock = aClock();
    const leases = new NodeLeases();
    h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
    const lost = { type: 'Ready', status: 'False' as const, reason: 'NodeLost', message: 'node n1 stopped sending heartbeats', lastTransitionTime: new Date(T0).toISOString() };
    await registered(aStatus({ ready: false, conditions: [lost] }));
    clock.advance(1000); // the stored heartbeat is recent: readiness alone forces the write
    await beat();
    const node = await storedNode();
    expect(node.status?.ready).toBe(true);
    expect(node.status?.lastHeartbeat).toBe(clock.date().toISOString());
    expect(getCondition(node.status?.conditions, 'Ready')).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'NodeHeartbeating',
      message: 'node n1 is sending heartbeats',
      lastTransitionTime: clock.date().toISOString(),
    });
    expect(leases.lastRenewed('n1')).toBe(clock.ms);
  });

  it('rewrites a stored heartbeat from the future (an agent clock ahead of ours)', async () => {
    const clock = aClock();
    h = await startHarness({ now: clock.date, leases: new NodeLeases(), heartbeatWrites: writes });
    await registered(aStatus({ lastHeartbeat: new Date(T0 + 600_000).toISOString() }));
    await beat();
    expect((await storedNode()).status?.lastHeartbeat).toBe(clock.date().toISOString());
  });

  it('answers before its write: a store that takes its time holds neither the answer nor the lease', async () => {
    const clock = aClock();
    const leases = new NodeLeases();
    h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
    const lost = { type: 'Ready', status: 'False' as const, reason: 'NodeLost', message: 'node n1 stopped sending heartbeats', lastTransitionTime: new Date(T0).toISOString() };
    await registered(aStatus({ ready: false, conditions: [lost] }));
    // Updates wait until released: a write queue tens of seconds deep, as at 5,000 nodes.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let updates = 0;
    const slow = new Proxy(h.store, {
      get: (target, prop, receiver) => {
        if (prop !== 'update') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<Store['update']>) => {
          updates++;
          await released;
          return target.update(...args);
        };
      },
    });
    for (let i = 1; i <= 3; i++) {
      clock.advance(5000);
      await heartbeat(slow, 'n1', clock.date(), { leases, writes });
      expect(leases.lastRenewed('n1')).toBe(clock.ms);
    }
    // One write for the node, however many heartbeats came while it waited.
    expect(updates).toBe(1);
    expect(writes.size).toBe(1);
    expect((await storedNode()).status?.ready).toBe(false);
    release();
    await writes.idle();
    expect((await storedNode()).status).toMatchObject({ ready: true, lastHeartbeat: new Date(T0 + 5000).toISOString() });
  });

  it('answers 404 for an unknown node and gives it no lease', async () => {
    const leases = new NodeLeases();
    h = await startHarness({ leases });
    expect((await h.call({ method: 'POST', url: '/api/v1/nodes/n9/heartbeat', token: await h.node('n9') })).statusCode).toBe(404);
    expect(leases.lastRenewed('n9')).toBeUndefined();
  });

  it('cuts the store writes of a node heartbeating every 5 s for 10 minutes from 120 to 10', async () => {
    const writesOver10Minutes = async (leases: NodeLeases | undefined): Promise<number> => {
      const clock = aClock();
      h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
      await registered(aStatus());
      const before = await h.store.currentRevision();
      for (let i = 0; i < 120; i++) {
        clock.advance(5000);
        expect((await beat()).statusCode).toBe(204);
      }
      const written = (await h.store.currentRevision()) - before;
      await h.close();
      return written;
    };
    expect(await writesOver10Minutes(undefined)).toBe(120);
    expect(await writesOver10Minutes(new NodeLeases())).toBe(10);
    h = await startHarness(); // for afterEach
  });

  it('with the node controller sharing the leases, keeps a heartbeating node ready and notices when it stops', async () => {
    const clock = aClock();
    const leases = new NodeLeases();
    h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
    await registered(aStatus());
    const nodes = new NodeController({ events: new EventRecorder(h.store), store: h.store, logger: pino({ level: 'silent' }), nodeGracePeriodMs: 15_000, now: () => clock.ms, leases });
    for (let i = 0; i < 24; i++) {
      clock.advance(5000);
      await beat();
      await nodes.check();
    }
    expect((await storedNode()).status?.ready).toBe(true);
    clock.advance(15_001);
    await nodes.check();
    const node = await storedNode();
    expect(node.status?.ready).toBe(false);
    expect(node.status?.lastHeartbeat).toBe(new Date(clock.ms - 15_001).toISOString());
  });
});

describe('a node’s report as its heartbeat', () => {
  const report = async (token: string) =>
    h.call({ method: 'POST', url: '/api/v1/status/instances', token, payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status: { phase: 'Running', ready: true, containers: [] } }] } });
  const events = async (token: string) =>
    h.call({ method: 'POST', url: '/api/v1/events', token, payload: { items: [{ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'Checked', message: 'all well' }] } });

  it('renews the lease of the node that reported, and says so in the answer', async () => {
    const clock = aClock();
    const leases = new NodeLeases();
    h = await startHarness({ now: clock.date, leases, heartbeatWrites: writes });
    await registered(aStatus());
    clock.advance(3000);
    const res = await report(await h.node('n1'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['gantry-lease']).toBe('renewed');
    expect(leases.lastRenewed('n1')).toBe(T0 + 3000);
    clock.advance(2000);
    const ev = await events(await h.node('n1'));
    expect(ev.statusCode).toBe(200);
    expect(ev.headers['gantry-lease']).toBe('renewed');
    expect(leases.lastRenewed('n1')).toBe(T0 + 5000);
  });

  it('turns a not-ready node ready again, as a heartbeat does', async () => {
    const clock = aClock();
    h = await startHarness({ now: clock.date, leases: new NodeLeases(), heartbeatWrites: writes });
    await registered(aStatus({ ready: false, conditions: [{ type: 'Ready', status: 'False', reason: 'NodeLost', lastTransitionTime: new Date(T0).toISOString() }] }));
    clock.advance(1000);
    expect((await report(await h.node('n1'))).headers['gantry-lease']).toBe('renewed');
    await writes.idle();
    const node = await storedNode();
    expect(node.status?.ready).toBe(true);
    expect(getCondition(node.status?.conditions ?? [], 'Ready')?.reason).toBe('NodeHeartbeating');
  });

  it('renews nothing for an unregistered node or on a server without leases', async () => {
    const leases = new NodeLeases();
    h = await startHarness({ leases, heartbeatWrites: writes });
    // A node credential whose Node was never registered.
    const res = await report(await h.node('n1'));
    expect(res.headers['gantry-lease']).toBeUndefined();
    expect(leases.lastRenewed('n1')).toBeUndefined();
    await h.close();
    h = await startHarness();
    await registered(aStatus());
    const without = await report(await h.node('n1'));
    expect(without.statusCode).toBe(200);
    expect(without.headers['gantry-lease']).toBeUndefined();
  });
});

describe('the heartbeat pace', () => {
  /** `count` more Node objects in the store, a thousand per transaction. */
  async function moreNodes(count: number): Promise<void> {
    for (let start = 0; start < count; start += 1000) {
      const ops = Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({ op: 'create' as const, object: aNode(`other-${start + i}`) }));
      await h.store.txn(ops);
    }
  }

  it('asks nothing of agents up to 2,500 nodes, and a longer interval beyond, in heartbeats and in reports taken as one', async () => {
    const clock = aClock();
    h = await startHarness({ now: clock.date, leases: new NodeLeases(), heartbeatWrites: writes });
    await registered(aStatus());
    // Below the cap the agent keeps its own interval (1 s for a service with lostAfter 3s).
    expect((await beat()).headers['gantry-heartbeat-interval']).toBeUndefined();
    await moreNodes(10_000);
    // 10,001 nodes: 500 heartbeats a second at 21 s. The count is read again every 5 s at most.
    await expect.poll(async () => (await beat()).headers['gantry-heartbeat-interval'], { timeout: 10_000, interval: 500 }).toBe('21000');
    const report = await h.call({ method: 'POST', url: '/api/v1/status/instances', token: await h.node('n1'), payload: { items: [] } });
    expect(report.headers['gantry-heartbeat-interval']).toBe('21000');
  }, 20_000);

  it('paces to the rate the server was given (--max-heartbeats-per-second), read at each answer (on etcd the leader’s)', async () => {
    let rate = 20;
    h = await startHarness({ leases: new NodeLeases(), heartbeatWrites: writes, heartbeatRate: () => rate });
    await registered(aStatus());
    // 201 nodes: 20 a second at 11 s (whole seconds, rounded up), where the default cap asks nothing.
    await moreNodes(200);
    await expect.poll(async () => (await beat()).headers['gantry-heartbeat-interval'], { timeout: 10_000, interval: 500 }).toBe('11000');
    // A new leader paces at 10 a second: the next answer asks for 21 s.
    rate = 10;
    expect((await beat()).headers['gantry-heartbeat-interval']).toBe('21000');
  }, 20_000);

  it('stretches the persist interval with the pace: 201 nodes at 20 a second rewrite the stored heartbeat after 132 s, not 60 s', async () => {
    const clock = aClock();
    h = await startHarness({ now: clock.date, leases: new NodeLeases(), heartbeatWrites: writes, heartbeatRate: () => 20 });
    await registered(aStatus());
    await moreNodes(200);
    // The count is read again every 5 s (real time): the 11 s pace in the answer says it was.
    await expect.poll(async () => (await beat()).headers['gantry-heartbeat-interval'], { timeout: 10_000, interval: 500 }).toBe('11000');
    clock.advance(131_999);
    await beat();
    expect((await storedNode()).status?.lastHeartbeat).toBe(new Date(T0).toISOString());
    clock.advance(1);
    await beat();
    expect((await storedNode()).status?.lastHeartbeat).toBe(clock.date().toISOString());
  }, 20_000);

  it('asks nothing of agents on a server without leases', async () => {
    h = await startHarness();
    await registered(aStatus());
    const res = await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
    expect(res.statusCode).toBe(204);
    expect(res.headers['gantry-heartbeat-interval']).toBeUndefined();
  });
});
