// Warm runs on the real dockerd through the agent's supervisor (no server: a FakeGantryClient
// stands in), so warm execution is proven against Docker even where no Job controller exists.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTestImage } from '../../test/support/test-image.js';
import type { Instance } from '../core/index.js';
import { LABELS } from '../drivers/driver.js';
import { DockerDriver } from '../drivers/docker/docker-driver.js';
import { InstanceSupervisor } from './instance-supervisor.js';
import { StatusReporter } from './node/status-reporter.js';
import { FakeGantryClient, aContainer, silentLogger, waitFor } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

const SOCKET = '/var/run/docker.sock';
const docker = new Docker({ socketPath: SOCKET });
const dockerAnswers = await docker.ping().then(() => true, () => false);
if (!dockerAnswers) console.warn(`warm-runs-docker tests SKIPPED: no Docker daemon answers on ${SOCKET}`);
const clusterId = `test-${randomBytes(4).toString('hex')}`;

describe.skipIf(!dockerAnswers)('warm runs on dockerd', () => {
  const driver = new DockerDriver({ clusterId, nodeName: 'warm-n1', publishAddress: '127.0.0.1', socketPath: SOCKET, extraLabels: { 'io.gantry.test': '1' } });
  const client = new FakeGantryClient();
  const logger = silentLogger();
  const reporter = new StatusReporter({ client, logger, flushIntervalMs: 10 });
  const supervisor = new InstanceSupervisor({ driver, nodeName: 'warm-n1', hostIP: '127.0.0.1', logger, reporter });

  afterAll(async () => {
    await supervisor.shutdown();
    await reporter.stop();
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${clusterId}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
    await driver.close();
  }, 60_000);

  it('11 runs share one container; run 3 fails with its exit code and the container survives', async () => {
    const image = await ensureTestImage();
    reporter.start();
    await supervisor.sync([]);
    // The file /n lives in the shared container: only a shared container counts runs.
    const command = ['sh', '-c', 'n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo run-$n; [ $n -ne 3 ] || exit 7'];
    const runs: Instance[] = [];
    for (let n = 1; n <= 11; n++) {
      const inst = anInstance(`tick-${n}`, { service: 'tick', node: 'warm-n1', spec: { restartPolicy: 'Never' }, containers: [aContainer('tick', { image, command })] });
      inst.spec.runIn = 'warm';
      runs.push(inst);
      client.addInstance(inst);
      supervisor.handle({ type: 'ADDED', revision: n, object: inst });
      // One after another, as a Job with parallelism 1 runs them.
      await waitFor(() => ['Succeeded', 'Failed'].includes(client.statusOf(inst)?.phase ?? ''), 20_000, `run ${n}`);
    }
    const ids = new Set(runs.map((r) => client.statusOf(r)?.containers[0]?.containerId));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(client.statusOf(runs[2]!)).toMatchObject({ phase: 'Failed', containers: [{ exitCode: 7, state: 'exited' }] });
    expect(runs.filter((r) => client.statusOf(r)?.phase === 'Succeeded')).toHaveLength(10);
    expect((await docker.getContainer(id!).inspect()).State.Running).toBe(true);
    expect(supervisor.runLog(`run.${runs[2]!.metadata.uid}`, undefined)).toEqual(['run-3']);
    expect(supervisor.runLog(`run.${runs[10]!.metadata.uid}`, undefined)).toEqual(['run-11']);
  }, 120_000);
});
