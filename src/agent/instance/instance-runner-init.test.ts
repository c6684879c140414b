// Init containers, config files and the scratch volume of an instance, on the fake driver.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError, type Instance, type InstanceStatus } from '../../core/index.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import type { FileSource } from './file-gate.js';
import { InstanceRunner } from './instance-runner.js';
import { SCRATCH_PATH, scratchVolumeName } from './scratch-volume.js';
import { aContainer, silentLogger, waitFor } from '../test-helpers.js';
import { anInstance } from '../../core/test-builders.js';

const runners: InstanceRunner[] = [];
afterEach(() => {
  for (const r of runners.splice(0)) r.detach();
});

function run(inst: Instance, driver: FakeDriver, files?: FileSource) {
  const statuses: InstanceStatus[] = [];
  const events: string[] = [];
  const runner = new InstanceRunner({
    instance: inst,
    driver,
    nodeName: 'n1',
    hostIP: '127.0.0.1',
    logger: silentLogger(),
    restartBackoff: { baseMs: 20, capMs: 200 },
    files,
    onStatus: (_i, s) => statuses.push(structuredClone(s)),
    onEvent: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
  });
  runners.push(runner);
  // The agent pokes on every driver event; here a timer stands in for it.
  const timer = setInterval(() => runner.poke(), 5);
  runners.push({ detach: () => clearInterval(timer) } as unknown as InstanceRunner);
  runner.poke();
  return { runner, statuses, events, last: () => statuses.at(-1) };
}

function withInit(restartPolicy: 'Always' | 'Never' = 'Always'): Instance {
  const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer('app')], spec: { restartPolicy } });
  inst.spec.initContainers = [aContainer('migrate'), aContainer('seed')];
  return inst;
}

describe('init containers', () => {
  it('run in order to completion before the main containers, all sharing the scratch volume', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 0);
    driver.setExitOnStart('seed', 0);
    const create = vi.spyOn(driver, 'create');
    const inst = withInit();
    const { last, events } = run(inst, driver);
    await waitFor(() => last()?.phase === 'Running', 2000, 'Running');
    expect(create.mock.calls.map((c) => c[0].spec.name)).toEqual(['migrate', 'seed', 'app']);
    const volume = scratchVolumeName(inst.metadata.uid);
    for (const [launch] of create.mock.calls) expect(launch.mounts).toEqual([{ volume, path: SCRATCH_PATH }]);
    expect(create.mock.calls[0]?.[0].env).toMatchObject({ GANTRY_INSTANCE: inst.metadata.name });
    expect(driver.volumes.has(volume)).toBe(true);
    expect(last()?.initContainers?.map((c) => [c.name, c.state, c.exitCode])).toEqual([
      ['migrate', 'exited', 0],
      ['seed', 'exited', 0],
    ]);
    expect(events).toContain('Normal Completed init container seed exited with code 0');
  });

  it('a failing one blocks the instance (Pending, InitFailed, exit code), is retried with back-off, and a later success lets it start', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 3);
    driver.setExitOnStart('seed', 0);
    const create = vi.spyOn(driver, 'create');
    const { last, events } = run(withInit(), driver);
    await waitFor(() => (last()?.initContainers?.[0]?.restartCount ?? 0) >= 3, 3000, 'three failed runs');
    const st = last()!;
    expect(st.phase).toBe('Pending');
    expect(st.reason).toBe('InitFailed');
    expect(st.message).toMatch(/init container "migrate" exited with code 3; retrying in/);
    expect(create.mock.calls.map((c) => c[0].spec.name)).not.toContain('app');
    expect(create.mock.calls.map((c) => c[0].spec.name)).not.toContain('seed');
    expect(events.some((e) => e.startsWith('Warning InitFailed init container "migrate" exited with code 3'))).toBe(true);
    // Failed runs are replaced, not piled up: one migrate container exists at a time.
    expect((await driver.recover()).filter((c) => c.container === 'migrate')).toHaveLength(1);
    driver.setExitOnStart('migrate', 0);
    await waitFor(() => last()?.phase === 'Running', 3000, 'Running after the fix');
  });

  it('fails the instance under restartPolicy Never', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 2);
    const { last } = run(withInit('Never'), driver);
    await waitFor(() => last()?.phase === 'Failed', 2000, 'Failed');
    expect(last()).toMatchObject({ reason: 'InitFailed', message: expect.stringMatching(/exited with code 2; not retrying/) });
  });

  it('are removed, with the scratch volume, when the instance is', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 0);
    driver.setExitOnStart('seed', 0);
    const inst = withInit();
    const { runner, last } = run(inst, driver);
    await waitFor(() => last()?.phase === 'Running', 2000, 'Running');
    expect(runner.owns(last()!.initContainers![0]!.containerId!)).toBe(true);
    await runner.remove();
    expect(await driver.recover()).toEqual([]);
    expect(driver.volumes.size).toBe(0);
  });

  it('are not run again when the main containers are adopted after an agent restart', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 0);
    driver.setExitOnStart('seed', 0);
    const inst = withInit();
    const first = run(inst, driver);
    await waitFor(() => first.last()?.phase === 'Running', 2000, 'Running');
    first.runner.detach();
    const create = vi.spyOn(driver, 'create');
    const again = new InstanceRunner({ instance: inst, driver, nodeName: 'n1', hostIP: '127.0.0.1', logger: silentLogger(), adopted: await driver.recover(), onStatus: () => undefined });
    runners.push(again);
    again.poke();
    await again.idle();
    expect(create).not.toHaveBeenCalled();
    expect((await driver.recover()).length).toBe(3);
  });
});

describe('config files', () => {
  it('are fetched once and copied into every container before it starts, init containers too', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    driver.setExitOnStart('migrate', 0);
    driver.setExitOnStart('seed', 0);
    const inst = withInit();
    inst.spec.containers.push(aContainer('sidecar'));
    inst.spec.configFiles = [{ path: '/etc/app.conf', content: 'x' }, { path: '/run/pw', secretRef: { name: 'db', key: 'pw' }, mode: '0400' }];
    const source = vi.fn<FileSource>(async () => [
      { path: '/etc/app.conf', mode: '0644', content: 'x' },
      { path: '/run/pw', mode: '0400', content: 'hunter2' },
    ]);
    const start = vi.spyOn(driver, 'start');
    const copied: Record<string, number> = {};
    vi.spyOn(driver, 'copyFiles').mockImplementation(async function (this: FakeDriver, id, files) {
      // Copied before start: the container has not been started yet.
      copied[id] = start.mock.calls.filter((c) => c[0] === id).length;
      return FakeDriver.prototype.copyFiles.call(driver, id, files);
    });
    const { last, statuses } = run(inst, driver, source);
    await waitFor(() => last()?.phase === 'Running', 2000, 'Running');
    expect(source).toHaveBeenCalledTimes(1);
    const all = await driver.recover();
    expect(all).toHaveLength(4);
    for (const c of all) {
      expect(driver.filesOf(c.id)).toEqual([
        { path: '/etc/app.conf', mode: 0o644, content: 'x' },
        { path: '/run/pw', mode: 0o400, content: 'hunter2' },
      ]);
      expect(copied[c.id]).toBe(0);
    }
    expect(JSON.stringify(statuses)).not.toContain('hunter2');
  });

  it('keep the instance Pending with reason ConfigMissing while a reference is missing, and retry', async () => {
    const driver = new FakeDriver({ nodeName: 'n1' });
    const inst = anInstance('web-a1b2c', { node: 'n1', containers: [aContainer()] });
    inst.spec.configFiles = [{ path: '/etc/app.conf', configRef: { name: 'web', key: 'app.conf' } }];
    let missing = true;
    const source: FileSource = async () => {
      if (missing) throw new AppError('CONFLICT', 'instance default/web-a1b2c refers to config content that does not exist', [{ path: 'spec.configFiles[0].configRef', message: 'config "default/web" does not exist' }]);
      return [{ path: '/etc/app.conf', mode: '0644', content: 'ok' }];
    };
    const { last, events } = run(inst, driver, source);
    await waitFor(() => last()?.reason === 'ConfigMissing', 2000, 'ConfigMissing');
    expect(last()).toMatchObject({ phase: 'Pending', message: expect.stringMatching(/spec.configFiles\[0\].configRef: config "default\/web" does not exist.*retrying in/) });
    expect(await driver.recover()).toEqual([]);
    expect(events.some((e) => e.startsWith('Warning ConfigMissing'))).toBe(true);
    missing = false;
    await waitFor(() => last()?.phase === 'Running', 2000, 'Running once the config exists');
  });
});
