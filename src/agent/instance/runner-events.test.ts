import { describe, expect, it } from 'vitest';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { newSlot, type Slot } from './container-slot.js';
import { InstanceRunner } from './instance-runner.js';
import { backOffMessage, exitText, notRestartingMessage, startedMessage, unhealthyMessage } from './runner-events.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

function aSlot(over: Partial<Slot> = {}): Slot {
  const slot = newSlot(aContainer('web'), 0, { baseMs: 1000, capMs: 60_000 });
  return Object.assign(slot, over);
}

const exited = (exitCode: number | undefined, oomKilled = false) => ({
  id: 'c'.repeat(64),
  instance: { namespace: 'default', name: 'web-abcde', uid: 'u1' },
  container: 'web',
  running: false,
  exitCode,
  oomKilled,
  hostPorts: {},
});

describe('runner event messages', () => {
  it('name the container, the short id, and how it ended', () => {
    expect(startedMessage(aSlot({ id: '1a2b3c4d5e6f7a8b9c0d' }))).toBe('started container web (id 1a2b3c4d5e6f)');
    expect(exitText(aSlot({ state: exited(137) }))).toBe('container web exited with code 137');
    expect(exitText(aSlot({ state: exited(137, true) }))).toBe('container web ran out of memory and was killed (exit code 137)');
    expect(exitText(aSlot({ state: exited(undefined) }))).toBe('container web disappeared');
    expect(exitText(aSlot({ state: exited(143), killedByHealth: true }))).toBe('container web was stopped after failing its health check');
  });

  it('BackOff counts the coming restart; not restarting names the policy', () => {
    expect(backOffMessage(aSlot({ state: exited(137), restartCount: 2 }), 4000)).toBe('container web exited with code 137; restarting in 4s (restart 3)');
    expect(notRestartingMessage(aSlot({ state: exited(3) }), 'Never')).toBe('container web exited with code 3; not restarting (restartPolicy Never)');
    expect(unhealthyMessage(aSlot(), 3, 'GET / -> 500', 'Always')).toBe('health check failed 3 times: GET / -> 500; restarting container web');
    expect(unhealthyMessage(aSlot(), 1, 'GET / -> 500', 'Never')).toBe('health check failed 1 time: GET / -> 500; stopping container web');
  });

  it('a runner under restartPolicy Never reports Failed, not BackOff', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const events: { type: string; reason: string; message: string }[] = [];
    let ready = false;
    const runner = new InstanceRunner({
      instance: anInstance('web-a1b2c', { node: 'n1', spec: { restartPolicy: 'Never' }, containers: [aContainer('web')] }),
      driver,
      nodeName: 'n1',
      hostIP: '127.0.0.1',
      logger: silentLogger(),
      restartBackoff: { baseMs: 20, capMs: 1000 },
      onStatus: (_i, s) => (ready = s.ready),
      onEvent: (type, reason, message) => events.push({ type, reason, message }),
    });
    try {
      runner.poke();
      await waitFor(() => ready, 2000, 'ready');
      const [c] = await driver.recover();
      driver.crash(c!.id, 3);
      runner.poke();
      await waitFor(() => events.some((e) => e.reason === 'Failed'), 2000, 'Failed');
      expect(events.map((e) => e.reason)).toEqual(['Started', 'Failed']);
      expect(events[1]).toEqual({ type: 'Warning', reason: 'Failed', message: 'container web exited with code 3; not restarting (restartPolicy Never)' });
    } finally {
      runner.detach();
    }
  });
});
