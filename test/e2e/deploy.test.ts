// The spine, end to end on a real dockerd: apply, serve, heal, scale, delete.
import { describe, expect, it } from 'vitest';
import { containersWithLabels, docker } from '../support/docker-cli.js';
import { useGantryUp } from '../support/gantry-process.js';
import { endpointOf, httpGet, instancesOf, readyCount, webService } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

describe('deploy a replicated service on real Docker', () => {
  const t = useGantryUp();
  /** The instance whose container the restart test killed. */
  let killed = '';

  const running = () => containersWithLabels({ 'io.gantry.cluster': t.g.clusterId }, false);

  it('runs 3 replicas that each answer HTTP on their published host port', async () => {
    const r = await t.g.apply(webService('web', 3, t.image));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('service/web created');

    const items = await waitFor('3 ready instances', async () => {
      const list = await instancesOf(t.g, 'web');
      return list.length === 3 && readyCount(list) === 3 ? list : undefined;
    });
    expect(await running()).toHaveLength(3);
    const answers = await Promise.all(items.map((i) => httpGet(endpointOf(i))));
    expect(answers.map((a) => a.trim()).sort()).toEqual(items.map((i) => i.metadata.name).sort());

    const table = await t.g.cli(['get', 'instances']);
    expect(table.stdout).toMatch(/NAME\s+SERVICE\s+NODE\s+PHASE\s+READY/);
    for (const i of items) {
      const line = table.stdout.split('\n').find((l) => l.startsWith(i.metadata.name));
      expect(line).toContain('e2e-node');
      expect(line).toContain('Running');
      expect(line).toContain(`127.0.0.1:${endpointOf(i).split(':').pop()}`);
    }

    const again = await t.g.apply(webService('web', 3, t.image));
    expect(again.stdout.trim()).toBe('service/web unchanged');
  });

  it('restarts a killed container, which answers again', async () => {
    const [victim] = await instancesOf(t.g, 'web');
    killed = victim!.metadata.name;
    const id = victim!.status!.containers[0]!.containerId!;
    await docker('kill', id);
    const healed = await waitFor('the killed instance to be restarted and ready', async () => {
      const i = (await instancesOf(t.g, 'web')).find((x) => x.metadata.name === victim!.metadata.name);
      return i && i.status?.ready && (i.status.containers[0]?.restartCount ?? 0) >= 1 ? i : undefined;
    });
    expect((await httpGet(endpointOf(healed))).trim()).toBe(victim!.metadata.name);
  });

  it('tells what happened as events: on the instance, on the service, and in get events', async () => {
    expect(killed).not.toBe('');
    // The agent sends events about once a second: wait for the restart's BackOff to arrive.
    const described = await waitFor('Started and BackOff on the killed instance', async () => {
      const r = await t.g.cli(['describe', 'instance', killed]);
      return r.code === 0 && /BackOff/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(/Normal +Started +.*started container web \(id [0-9a-f]{12}\)/);
    expect(events).toMatch(/Warning +BackOff +.*container web exited with code 137; restarting in \S+ \(restart 1\)/);
    expect(events).toContain('agent/e2e-node');

    const service = await t.g.cli(['describe', 'service', 'web']);
    expect(service.stdout).toMatch(/Normal +ScalingUp +.*created 3 instances/);
    expect(service.stdout).toMatch(/Normal +Scheduled +.*placed web-[a-z0-9]{5} on e2e-node/);

    const all = await t.g.cli(['get', 'events']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/LAST +TYPE +REASON +OBJECT +MESSAGE/);
    expect(all.stdout).toMatch(/ScalingUp +service\/web +created 3 instances/);
    expect(all.stdout).toMatch(/Registered +node\/e2e-node/);
  });

  it('scales to 5 and back to 1 with exactly that many containers', async () => {
    expect((await t.g.cli(['scale', 'service', 'web', '--replicas', '5'])).code).toBe(0);
    await waitFor('5 ready instances', async () => readyCount(await instancesOf(t.g, 'web')) === 5 && (await running()).length === 5);
    expect((await t.g.cli(['scale', 'service', 'web', '--replicas', '1'])).code).toBe(0);
    await waitFor('1 instance and 1 container', async () => (await instancesOf(t.g, 'web')).length === 1 && (await running()).length === 1);
    const svc = await t.g.getJson<{ status: { replicas: number; readyReplicas: number } }>(['get', 'service', 'web']);
    await waitFor('service status to say 1/1', async () => {
      const s = await t.g.getJson<{ status: { replicas: number; readyReplicas: number } }>(['get', 'service', 'web']);
      return s.status.replicas === 1 && s.status.readyReplicas === 1;
    });
    expect(svc.status).toBeDefined();
  });

  it('leaves no labelled container after delete', async () => {
    const r = await t.g.cli(['delete', 'service', 'web']);
    expect(r.code).toBe(0);
    await waitFor('every container of the cluster to be gone', async () => (await containersWithLabels({ 'io.gantry.cluster': t.g.clusterId })).length === 0);
    expect(await instancesOf(t.g, 'web')).toEqual([]);
  });
});
