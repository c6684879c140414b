// The graceful stop (spec.stop) and ghost repair, on the fake driver.
import { afterEach, describe, expect, it } from 'vitest';
import type { Instance, InstanceStatus } from '../../core/index.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { InstanceRunner } from './instance-runner.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

const runners: InstanceRunner[] = [];
afterEach(() => {
  for (const r of runners.splice(0)) r.detach();
});

interface Seen {
  at: number;
  status: InstanceStatus;
  urgent: boolean;
}

function run(inst: Instance, driver: FakeDriver) {
  const seen: Seen[] = [];
  const events: { reason: string; message: string; at: number }[] = [];
  const runner = new InstanceRunner({
    instance: inst,
    driver,
    nodeName: 'n1',
    hostIP: '127.0.0.1',
    logger: silentLogger(),
    restartBackoff: { baseMs: 20, capMs: 1000 },
    onStatus: (_i, s, urgent) => seen.push({ at: Date.now(), status: structuredClone(s), urgent: urgent === true }),
    onEvent: (_type, reason, message) => events.push({ reason, message, at: Date.now() }),
  });
  runners.push(runner);
  runner.poke();
  return { runner, seen, events, last: () => seen.at(-1)?.status };
}

function withStop(inst: Instance, termination?: Instance['spec']['termination']): Instance {
  return {
    ...inst,
    metadata: { ...inst.metadata, revision: inst.metadata.revision + 1 },
    spec: { ...inst.spec, ...(termination ? { termination } : {}), stop: { at: new Date().toISOString(), reason: 'scaled down' } },
  };
}

const idOf = (s: InstanceStatus | undefined, name = 'app'): string => s?.containers.find((c) => c.name === name)?.containerId ?? '';

describe('InstanceRunner graceful stop', () => {
  it('turns not ready at once (urgent), drains, sends the stop signal, then reports Succeeded/Stopped', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const termination = { drainDelaySeconds: 0.3, gracePeriodSeconds: 5, stopSignal: 'SIGUSR1' };
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] });
    const { runner, seen, events, last } = run({ ...inst, spec: { ...inst.spec, termination } }, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const app = idOf(last());
    const stopAt = Date.now();
    runner.update(withStop(inst, termination));
    await waitFor(() => last()?.phase === 'Succeeded', 3000, 'Succeeded');

    const notReady = seen.find((s) => s.at >= stopAt && !s.status.ready);
    expect(notReady?.urgent).toBe(true);
    expect(notReady?.status).toMatchObject({ phase: 'Running', reason: 'Stopping', message: 'stopping: scaled down' });
    // Still running while draining: discovery drops it before the signal arrives.
    expect(notReady?.status.containers.every((c) => c.state === 'running')).toBe(true);
    expect(driver.signalsOf(app)).toEqual(['SIGUSR1']);
    const stopping = events.find((e) => e.reason === 'Stopping');
    expect(stopping?.message).toBe('sending SIGUSR1 to containers app, sidecar; SIGKILL after 5s (grace period): scaled down');
    expect(stopping!.at - stopAt).toBeGreaterThanOrEqual(290);
    expect(events.map((e) => e.reason)).toContain('Draining');
    expect(events.map((e) => e.reason)).not.toContain('Killing');
    expect(last()).toMatchObject({ phase: 'Succeeded', ready: false, reason: 'Stopped' });
    expect(last()?.message).toBe('stopped: scaled down (app exited with code 138, sidecar exited with code 138)');
    // Never restarted, and the dead containers stay (logs readable) until the owner deletes the instance.
    await new Promise((r) => setTimeout(r, 100));
    expect((await driver.inspect(app))?.running).toBe(false);
    expect(last()?.containers[0]?.restartCount).toBe(0);
  });

  it('kills (SIGKILL) a container that ignores its stop signal after the grace period: Failed, with a Killing event', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const termination = { drainDelaySeconds: 0, gracePeriodSeconds: 0.2, stopSignal: 'SIGTERM' };
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    const { runner, events, last } = run({ ...inst, spec: { ...inst.spec, termination } }, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const app = idOf(last());
    driver.ignoreStopSignal(app);
    runner.update(withStop(inst, termination));
    await waitFor(() => last()?.phase === 'Failed', 3000, 'Failed');
    expect(driver.signalsOf(app)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(last()).toMatchObject({ reason: 'Stopped', ready: false });
    expect(events.find((e) => e.reason === 'Killing')?.message).toBe('container app did not exit within 0.2s of SIGTERM; killed (SIGKILL)');
    expect(events.map((e) => e.reason)).not.toContain('Draining');
  });

  it('does not restart a container that dies while draining, and stops an instance that never started', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    const termination = { drainDelaySeconds: 0.2, gracePeriodSeconds: 1, stopSignal: 'SIGTERM' };
    const { runner, last } = run({ ...inst, spec: { ...inst.spec, termination } }, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    runner.update(withStop(inst, termination));
    await waitFor(() => last()?.reason === 'Stopping', 1000, 'stopping');
    driver.crash(idOf(last()), 3);
    runner.poke();
    await waitFor(() => last()?.phase === 'Failed', 2000, 'finished');
    expect(last()?.message).toBe('stopped: scaled down (app exited with code 3)');
    expect(driver.list().filter((c) => c.running)).toHaveLength(0);

    const never = anInstance('never-1', { node: 'n1', containers: [aContainer()] });
    const second = run(withStop(never), driver);
    await waitFor(() => second.last()?.phase === 'Succeeded', 1000, 'stopped without starting');
    expect(driver.list().filter((c) => c.running)).toHaveLength(0);
  });

  it('uses the defaults (no drain, SIGTERM) for instances without termination', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    const { runner, last } = run(inst, driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const app = idOf(last());
    runner.update(withStop(inst));
    await waitFor(() => last()?.phase === 'Succeeded', 1000, 'Succeeded');
    expect(driver.signalsOf(app)).toEqual(['SIGTERM']);
    expect(last()?.message).toBe('stopped: scaled down (app exited with code 143)');
  });
});

describe('InstanceRunner ghost repair', () => {
  it('force-removes a container whose process is gone and starts a new one', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { runner, events, last } = run(anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] }), driver);
    await waitFor(() => last()?.ready, 2000, 'ready');
    const ghost = idOf(last());
    driver.makeGhost(ghost);
    runner.poke();
    await waitFor(() => last()?.ready && idOf(last()) !== ghost, 2000, 'a new container');
    expect(await driver.inspect(ghost)).toBeUndefined();
    expect(last()?.containers[0]?.restartCount).toBe(1);
    expect(events.find((e) => e.reason === 'GhostRepaired')?.message).toMatch(
      /^container app \(id fake-n1-1\) was a ghost: the fake process is gone \(makeGhost\); removed it by force, a new one replaces it$/,
    );
  });
});
