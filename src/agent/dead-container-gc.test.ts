// The dead-container GC and the re-read after a runtime outage (InstanceSupervisor), on the fake driver.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import { EventReporter } from './node/event-reporter.js';
import { InstanceSupervisor } from './instance-supervisor.js';
import { StatusReporter } from './node/status-reporter.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const supervisors: InstanceSupervisor[] = [];
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.shutdown();
});

function aSupervisor(driver: FakeDriver, clock: { now: number }) {
  const client = new FakeGantryClient();
  const logger = silentLogger();
  const events = new EventReporter({ client, logger, source: 'agent/n1' });
  const supervisor = new InstanceSupervisor({
    driver,
    nodeName: 'n1',
    hostIP: '127.0.0.1',
    logger,
    reporter: new StatusReporter({ client, logger }),
    events,
    restartBackoff: { baseMs: 20, capMs: 1000 },
    deadContainerTtlMs: 60_000,
    now: () => clock.now,
  });
  supervisors.push(supervisor);
  return { supervisor, client, events };
}

describe('dead-container GC', () => {
  it('removes retired containers and those of finished instances once dead for the TTL, never running ones', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const clock = { now: Date.now() };
    const { supervisor, client, events } = aSupervisor(driver, clock);
    const pod = anInstance('pod-1', { node: 'n1', containers: [aContainer('app'), aContainer('sidecar')] });
    const job = anInstance('job-1', { node: 'n1', spec: { restartPolicy: 'Never' }, containers: [aContainer()] });
    await supervisor.sync([pod, job]);
    await waitFor(async () => (await driver.recover()).filter((c) => c.running).length === 3, 2000, 'three running');
    // The pod's first container crashes: the sidecar is replaced, the old one retired.
    const jobId = (await driver.recover()).find((c) => c.instance.uid === job.metadata.uid)!.id;
    const podApp = (await driver.recover()).find((c) => c.instance.uid === pod.metadata.uid && c.container === 'app')!.id;
    driver.crash(podApp, 1);
    supervisor.onDriverEvent({ id: podApp, action: 'die' });
    driver.crash(jobId, 0); // the job finishes: Succeeded, its container kept for its logs
    supervisor.onDriverEvent({ id: jobId, action: 'die' });
    await waitFor(() => driver.list().some((c) => c.retired), 2000, 'a retired sidecar');
    await waitFor(async () => driver.list().filter((c) => c.running).length === 2, 2000, 'the pod running again');

    await supervisor.sweepOrphans();
    expect(driver.list()).toHaveLength(4); // younger than the TTL: all kept

    clock.now += 61_000;
    await supervisor.sweepOrphans();
    const left = driver.list();
    expect(left.filter((c) => !c.running)).toEqual([]);
    expect(left).toHaveLength(2);
    expect(left.every((c) => c.running && !c.retired)).toBe(true);
    await events.flush();
    expect(client.events('RemovedDead').map((e) => e.message)).toEqual([
      'removed 2 dead containers (exited more than 1m0s ago; their logs are gone with them)',
    ]);
  });
});

describe('runtime outage', () => {
  it('recreates nothing while the runtime is down, and re-reads state when it answers again', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { supervisor } = aSupervisor(driver, { now: Date.now() });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    await supervisor.sync([inst]);
    await waitFor(async () => (await driver.recover()).some((c) => c.running), 2000, 'running');
    const before = driver.list();
    driver.setDown(true);
    supervisor.pokeAll();
    await new Promise((r) => setTimeout(r, 100));
    driver.setDown(false);
    expect(await supervisor.runtimeRecovered()).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(driver.list()).toEqual(before);
  });
});
