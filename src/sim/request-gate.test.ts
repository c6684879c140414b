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

  it('frees the slot of a call that failed', async () => {
    const gate = new RequestGate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(gate.active).toBe(0);
  });
});

describe('withRequestGate', () => {
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
