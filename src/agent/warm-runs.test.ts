// Warm execution (runIn warm) through the supervisor on the fake driver: one warm container per
// job and template, each run an exec, exit codes and output kept, the container replaced when
// the template changes and removed when idle.
import { afterEach, describe, expect, it } from 'vitest';
import type { Instance, InstanceStatus } from '../core/index.js';
import { FakeDriver } from '../drivers/fake/fake-driver.js';
import { InstanceSupervisor } from './instance-supervisor.js';
import { StatusReporter } from './node/status-reporter.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { isWarmUid } from './instance/warm-pool.js';
import { anInstance } from '../core/test-builders.js';

const supervisors: InstanceSupervisor[] = [];
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.shutdown();
});

function setup(warmIdleMs = 60_000) {
  const driver = new FakeDriver({ nodeName: 'n1' });
  const client = new FakeGantryClient();
  const logger = silentLogger();
  const reporter = new StatusReporter({ client, logger, flushIntervalMs: 5 });
  reporter.start();
  const supervisor = new InstanceSupervisor({ driver, nodeName: 'n1', hostIP: '127.0.0.1', logger, reporter, restartBackoff: { baseMs: 20, capMs: 200 }, warmIdleMs });
  supervisors.push(supervisor);
  const statusOf = (inst: Instance): InstanceStatus | undefined => client.statusOf(inst);
  return { driver, client, supervisor, statusOf, stop: () => reporter.stop() };
}

function aRun(n: number, command: string[], templateHash = 'h1'): Instance {
  const inst = anInstance(`tick-${n}`, { node: 'n1', service: 'tick', spec: { restartPolicy: 'Never' }, containers: [aContainer('main', { command })] });
  inst.spec.runIn = 'warm';
  inst.spec.ownerKind = 'Job';
  inst.spec.templateHash = templateHash;
  return inst;
}

const warmContainers = async (driver: FakeDriver) => (await driver.recover()).filter((c) => isWarmUid(c.instance.uid));

describe('warm runs', () => {
  it('ten runs share one container; each run is an exec with its own exit code and output', async () => {
    const { driver, client, supervisor, statusOf, stop } = setup();
    driver.setExecResult('sh -c exit 3', { exitCode: 3, output: 'failing run\n' });
    driver.setExecResult('echo hello', { exitCode: 0, output: 'hello\n' });
    const runs = Array.from({ length: 10 }, (_, n) => aRun(n, n === 4 ? ['sh', '-c', 'exit 3'] : ['echo', 'hello']));
    await supervisor.sync([]);
    for (const r of runs) {
      client.addInstance(r);
      supervisor.handle({ type: 'ADDED', revision: 1, object: r });
    }
    for (const r of runs) await waitFor(() => ['Succeeded', 'Failed'].includes(statusOf(r)?.phase ?? ''), 2000, `run ${r.metadata.name} finished`);
    const ids = new Set(runs.map((r) => statusOf(r)?.containers[0]?.containerId));
    expect(ids.size).toBe(1);
    const warm = await warmContainers(driver);
    expect(warm).toHaveLength(1);
    expect(warm[0]?.running).toBe(true);
    expect(ids.has(warm[0]?.id)).toBe(true);
    expect(statusOf(runs[4]!)).toMatchObject({ phase: 'Failed', reason: 'ContainerFailed', containers: [{ state: 'exited', exitCode: 3 }] });
    expect(statusOf(runs[0]!)).toMatchObject({ phase: 'Succeeded', containers: [{ state: 'exited', exitCode: 0, startedAt: expect.any(String), finishedAt: expect.any(String) }] });
    expect(driver.execs.filter((e) => e.id === warm[0]?.id)).toHaveLength(10);
    expect(supervisor.runLog(`run.${runs[4]!.metadata.uid}`, undefined)).toEqual(['failing run']);
    expect(supervisor.runLog(`run.${runs[0]!.metadata.uid}`, undefined)).toEqual(['hello']);
    expect(supervisor.owns(`run.${runs[0]!.metadata.uid}`)).toBe(true);
    expect(driver.labelsOf(warm[0]!.id)['io.gantry.warm']).toBe('default/tick@h1');
    await stop();
  });

  it('runs in a new warm container when the template changes, and removes the old one', async () => {
    const { driver, client, supervisor, statusOf, stop } = setup();
    await supervisor.sync([]);
    const first = aRun(1, ['true'], 'h1');
    client.addInstance(first);
    supervisor.handle({ type: 'ADDED', revision: 1, object: first });
    await waitFor(() => statusOf(first)?.phase === 'Succeeded', 2000, 'first run');
    const oldId = statusOf(first)?.containers[0]?.containerId;
    const second = aRun(2, ['true'], 'h2');
    client.addInstance(second);
    supervisor.handle({ type: 'ADDED', revision: 2, object: second });
    await waitFor(() => statusOf(second)?.phase === 'Succeeded', 2000, 'second run');
    expect(statusOf(second)?.containers[0]?.containerId).not.toBe(oldId);
    await supervisor.warm.reap();
    expect((await warmContainers(driver)).map((c) => c.id)).toEqual([statusOf(second)?.containers[0]?.containerId]);
    await stop();
  });

  it('removes a warm container once no run used it for the idle time, and is not fooled by the orphan sweep', async () => {
    const { driver, client, supervisor, statusOf, stop } = setup(100);
    await supervisor.sync([]);
    const run = aRun(1, ['true']);
    client.addInstance(run);
    supervisor.handle({ type: 'ADDED', revision: 1, object: run });
    await waitFor(() => statusOf(run)?.phase === 'Succeeded', 2000, 'run');
    await supervisor.sweepOrphans();
    expect(await warmContainers(driver)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    await supervisor.warm.reap();
    expect(await warmContainers(driver)).toHaveLength(0);
    await stop();
  });

  it('replaces a warm container that died, and does not run a finished instance again', async () => {
    const { driver, client, supervisor, statusOf, stop } = setup();
    await supervisor.sync([]);
    const one = aRun(1, ['true']);
    client.addInstance(one);
    supervisor.handle({ type: 'ADDED', revision: 1, object: one });
    await waitFor(() => statusOf(one)?.phase === 'Succeeded', 2000, 'run 1');
    const [warm] = await warmContainers(driver);
    driver.crash(warm!.id, 137);
    const two = aRun(2, ['true']);
    client.addInstance(two);
    supervisor.handle({ type: 'ADDED', revision: 2, object: two });
    await waitFor(() => statusOf(two)?.phase === 'Succeeded', 2000, 'run 2');
    expect(statusOf(two)?.containers[0]?.containerId).not.toBe(warm!.id);
    // A restarted agent sees run 1 finished: it reports, it does not exec again.
    const execs = driver.execs.length;
    const { supervisor: again } = { supervisor: new InstanceSupervisor({ driver, nodeName: 'n1', hostIP: '127.0.0.1', logger: silentLogger(), reporter: new StatusReporter({ client, logger: silentLogger() }) }) };
    supervisors.push(again);
    again.setRecovered(await driver.recover());
    await again.sync([{ ...one, status: statusOf(one)! }]);
    await new Promise((r) => setTimeout(r, 30));
    expect(driver.execs.length).toBe(execs);
    expect((await warmContainers(driver)).length).toBe(1);
    await stop();
  });

});
