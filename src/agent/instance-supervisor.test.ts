import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Instance } from '../core/index.js';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import { EventReporter } from './node/event-reporter.js';
import { InstanceSupervisor, type InstanceSupervisorOptions } from './instance-supervisor.js';
import { StatusReporter } from './node/status-reporter.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const supervisors: InstanceSupervisor[] = [];
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.shutdown();
});

function aSupervisor(driver: FakeDriver, overrides: Partial<InstanceSupervisorOptions> = {}): { supervisor: InstanceSupervisor; client: FakeGantryClient; events: EventReporter } {
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
    ...overrides,
  });
  supervisors.push(supervisor);
  return { supervisor, client, events };
}

/** A labelled, running container of an instance this node does not run (what a failed removal or create leaves). */
async function anOrphan(driver: FakeDriver, name = 'gone-11111'): Promise<string> {
  const id = await driver.create({ instance: { namespace: 'default', name, uid: `uid-${name}` }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: name });
  await driver.start(id);
  return id;
}

async function runningIdsOf(driver: FakeDriver, inst: Instance): Promise<string[]> {
  return (await driver.recover()).filter((c) => c.instance.uid === inst.metadata.uid && c.running).map((c) => c.id);
}

/** Makes driver.create wait for release() after the container exists (a slow daemon). */
function slowCreate(driver: FakeDriver): { release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const create = driver.create.bind(driver);
  vi.spyOn(driver, 'create').mockImplementation(async (launch) => {
    const id = await create(launch);
    await gate;
    return id;
  });
  return { release };
}

describe('InstanceSupervisor orphan sweep', () => {
  it('destroys labelled containers no runner owns, keeps the wanted ones, and tells the node', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { supervisor, client, events } = aSupervisor(driver);
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    await supervisor.sync([inst]);
    const [kept] = await waitFor(async () => {
      const ids = await runningIdsOf(driver, inst);
      return ids.length === 1 && ids;
    }, 2000, 'the wanted container to run');
    const orphan = await anOrphan(driver);

    await supervisor.sweepOrphans();

    expect((await driver.recover()).map((c) => c.id)).toEqual([kept]);
    expect(orphan).not.toBe(kept);
    await events.flush();
    expect(client.events('RemovedOrphan').map((e) => e.message)).toEqual([
      `removed container ${orphan.slice(0, 12)} (labelled for instance default/gone-11111, which no longer exists)`,
    ]);
  });

  it('does nothing before the first full list arrived: every container may still be adopted', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { supervisor } = aSupervisor(driver);
    const id = await anOrphan(driver);
    supervisor.setRecovered(await driver.recover());
    await supervisor.sweepOrphans();
    expect(await driver.inspect(id)).toMatchObject({ running: true });
  });

  it('leaves the containers of a removal in flight to that removal', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { supervisor, client, events } = aSupervisor(driver);
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    await supervisor.sync([inst]);
    const [id] = await waitFor(async () => {
      const ids = await runningIdsOf(driver, inst);
      return ids.length === 1 && ids;
    }, 2000, 'running');
    let releaseStop = (): void => undefined;
    const stopGate = new Promise<void>((r) => (releaseStop = r));
    const stop = driver.stop.bind(driver);
    vi.spyOn(driver, 'stop').mockImplementation(async (cid, t) => {
      await stopGate; // a slow graceful stop
      return stop(cid, t);
    });
    const destroy = vi.spyOn(driver, 'destroy');

    supervisor.handle({ type: 'DELETED', revision: 99, object: inst });
    await supervisor.sweepOrphans();
    expect(destroy).not.toHaveBeenCalled();
    releaseStop();
    await waitFor(async () => (await driver.inspect(id!)) === undefined, 2000, 'removed by its removal');
    await events.flush();
    expect(client.events('RemovedOrphan')).toEqual([]);
  });

  it('runs every orphanSweepIntervalMs until the signal aborts', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { supervisor } = aSupervisor(driver, { orphanSweepIntervalMs: 20 });
    await supervisor.sync([]);
    const abort = new AbortController();
    const sweeps = supervisor.runOrphanSweeps(abort.signal);
    const orphan = await anOrphan(driver);
    await waitFor(async () => (await driver.inspect(orphan)) === undefined, 2000, 'the orphan to be swept');
    abort.abort();
    await sweeps;
  });
});

describe('InstanceSupervisor shutdown', () => {
  it('waits for reconcile passes in flight, so no driver call comes after it', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const { release } = slowCreate(driver);
    const start = vi.spyOn(driver, 'start');
    const { supervisor } = aSupervisor(driver);
    await supervisor.sync([anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] })]);
    await waitFor(async () => (await driver.recover()).length === 1, 2000, 'create in flight');

    let done = false;
    const shutdown = supervisor.shutdown().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await shutdown;
    const destroy = vi.spyOn(driver, 'destroy');
    await new Promise((r) => setTimeout(r, 50));
    expect(destroy).not.toHaveBeenCalled();
    expect(start).not.toHaveBeenCalled();
  });

  it('gives up waiting after shutdownTimeoutMs', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    slowCreate(driver); // never released
    const { supervisor } = aSupervisor(driver, { shutdownTimeoutMs: 50 });
    await supervisor.sync([anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] })]);
    await waitFor(async () => (await driver.recover()).length === 1, 2000, 'create in flight');
    const began = Date.now();
    await supervisor.shutdown();
    expect(Date.now() - began).toBeLessThan(1000);
  });
});
