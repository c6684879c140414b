import { describe, expect, it } from 'vitest';
import { FakeGantryClient, aContainer } from '../agent/test-helpers.js';
import { API_VERSION } from '../core/index.js';
import { RequestGate, withRequestGate } from './request-gate.js';
import { anInstance } from '../core/test-builders.js';

/** A call that runs only when the gate lets it, and finishes when the test says so. */
class PendingCall {
  started = false;
  private finishWith: (v: string) => void = () => undefined;
  private readonly result = new Promise<string>((resolve) => (this.finishWith = resolve));

  readonly run = (): Promise<string> => {
    this.started = true;
    return this.result;
  };

  finish(v: string): void {
    this.finishWith(v);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('RequestGate', () => {
  it('never has more than its limit in flight, and starts the waiting ones in order as slots free up', async () => {
    const gate = new RequestGate(2);
    const calls = Array.from({ length: 5 }, () => new PendingCall());
    const results = calls.map((c) => gate.run(c.run));
    await tick();
    expect(calls.map((c) => c.started)).toEqual([true, true, false, false, false]);
    expect([gate.active, gate.queued]).toEqual([2, 3]);
    calls[1]!.finish('b');
    await tick();
    expect(calls.map((c) => c.started)).toEqual([true, true, true, false, false]);
    calls[0]!.finish('a');
    calls[2]!.finish('c');
    await tick();
    expect(calls.map((c) => c.started)).toEqual([true, true, true, true, true]);
    calls[3]!.finish('d');
    calls[4]!.finish('e');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([gate.active, gate.queued]).toEqual([0, 0]);
  });

  it('gives a freed slot to a waiting urgent call before the normal ones queued earlier, and times its wait', async () => {
    let clock = 0;
    const gate = new RequestGate(1, { now: () => clock });
    const blocker = new PendingCall();
    const held = gate.run(blocker.run);
    const normal = [new PendingCall(), new PendingCall()];
    const normalResults = normal.map((c) => gate.run(c.run));
    const urgent = new PendingCall();
    const urgentResult = gate.run(urgent.run, true);
    await tick();
    expect(gate.queued).toBe(3);
    expect(gate.urgentWaitPercentile(99)).toBeUndefined();
    clock = 40;
    blocker.finish('x');
    await tick();
    expect([urgent.started, normal[0]!.started, normal[1]!.started]).toEqual([true, false, false]);
    expect(gate.urgentWaitPercentile(99)).toEqual({ ms: 40, samples: 1 });
    urgent.finish('u');
    await tick();
    expect([normal[0]!.started, normal[1]!.started]).toEqual([true, false]);
    // A free slot: an urgent call waits for nothing.
    normal[0]!.finish('a');
    await tick();
    normal[1]!.finish('b');
    await Promise.all([held, urgentResult, ...normalResults]);
    expect(await gate.run(async () => 'now', true)).toBe('now');
    expect(gate.urgentWaitPercentile(50)).toEqual({ ms: 0, samples: 2 });
    expect(gate.urgentWaitPercentile(100)).toEqual({ ms: 40, samples: 2 });
  });

  it('keeps reserve slots for urgent calls only: a heartbeat starts while normal calls fill the limit', async () => {
    const gate = new RequestGate(1, { urgentReserve: 1 });
    const blocker = new PendingCall();
    const held = gate.run(blocker.run);
    const normal = new PendingCall();
    const normalResult = gate.run(normal.run);
    const urgent = [new PendingCall(), new PendingCall()];
    const urgentResults = urgent.map((c) => gate.run(c.run, true));
    await tick();
    // The first heartbeat takes the reserve slot at once; the second waits for a slot.
    expect([normal.started, urgent[0]!.started, urgent[1]!.started]).toEqual([false, true, false]);
    urgent[0]!.finish('u0');
    await tick();
    expect([normal.started, urgent[1]!.started]).toEqual([false, true]);
    // A freed reserve slot does not go to a normal call while the limit is taken.
    urgent[1]!.finish('u1');
    await tick();
    expect(normal.started).toBe(false);
    expect(gate.active).toBe(1);
    blocker.finish('b');
    await tick();
    expect(normal.started).toBe(true);
    normal.finish('n');
    await Promise.all([held, normalResult, ...urgentResults]);
    expect([gate.active, gate.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a call that failed', async () => {
    const gate = new RequestGate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(gate.active).toBe(0);
  });
});

describe('withRequestGate', () => {
  it('sends a heartbeat before status reports that queued first', async () => {
    const client = new FakeGantryClient();
    await client.apply({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    const gate = new RequestGate(1);
    const gated = withRequestGate(client, gate);
    const blocker = new PendingCall();
    const held = gate.run(blocker.run);
    const order: string[] = [];
    const report = gated.get('Node', undefined, 'n1').then(() => order.push('get'));
    const heartbeat = gated.heartbeat('n1').then(() => order.push('heartbeat'));
    await tick();
    blocker.finish('done');
    await Promise.all([held, report, heartbeat]);
    expect(order).toEqual(['heartbeat', 'get']);
  });

  it('holds calls while the gate is full but lets a watch through', async () => {
    const client = new FakeGantryClient();
    await client.apply({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    const gate = new RequestGate(1);
    const gated = withRequestGate(client, gate);
    const blocker = new PendingCall();
    const held = gate.run(blocker.run);

    const heartbeat = gated.heartbeat('n1');
    const ac = new AbortController();
    const next = gated.watch({ kind: 'Instance', fieldSelector: 'spec.node=n1' }, ac.signal)[Symbol.asyncIterator]().next();
    client.addInstance(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] }));
    const first = await next;
    expect(first.value).toMatchObject({ type: 'ADDED', object: { kind: 'Instance' } });
    expect(client.heartbeats).toBe(0);
    ac.abort();

    blocker.finish('done');
    await held;
    await heartbeat;
    expect(client.heartbeats).toBe(1);
  });
});
