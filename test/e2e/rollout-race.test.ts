// Issue 11 on a real dockerd: an update applied while the previous version's rollout is still
// Progressing (its instances serve, but minReadySeconds has not let it reach Complete) must still
// roll back to it when the update fails. minReadySeconds makes the race deterministic: v1 stays
// Progressing for 30 s after its instances turn ready (its own deadline, 60 s, is further off),
// and v2, with a 10 s deadline, is applied inside that window. And with no version to go back
// to (v1 never ready): the failure says so, holds, and scales v1 back up.
import { describe, expect, it } from 'vitest';
import type { Instance, Service } from '../../src/core/index.js';
import { useGantryUp, type GantryProcesses } from '../support/gantry-process.js';
import { endpointOf, httpGet } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

/** A registry on loopback that is not there: the pull fails at once, and no traffic leaves the machine. */
const MISSING_IMAGE = '127.0.0.1:9/gantry-test/missing:404';
const DEADLINE_S = 10;

function web(image: string, version: string, deadlineS: number, o: { name?: string; startPeriod?: string } = {}): string {
  return `apiVersion: gantry/v1
kind: Service
metadata:
  name: ${o.name ?? 'race'}
spec:
  replicas: 3
  update: { maxSurge: 1, maxUnavailable: 1, minReadySeconds: 30, progressDeadlineSeconds: ${deadlineS}, autoRollback: true }
  termination: { drainDelay: 0s, gracePeriod: 1s }
  containers:
    - name: web
      image: ${image}
      env: { VERSION: "${version}" }
      command: ["/bin/sh", "-c"]
      args: ["mkdir -p /www && echo \\"$VERSION\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
      resources: { cpu: 0.05, memory: 16Mi }
      ports:
        - { name: http, containerPort: 8080 }
      healthCheck:
        http: { port: http, path: / }
        interval: 1s${o.startPeriod ? `
        startPeriod: ${o.startPeriod}` : ''}
`;
}

async function api<T>(g: GantryProcesses, path: string): Promise<T> {
  const r = await g.fetch(`${g.url}${path}`, { headers: { authorization: `Bearer ${g.token}` }, signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`GET ${path} -> ${r.status}`);
  return (await r.json()) as T;
}

const instances = async (g: GantryProcesses, name = 'race') => (await api<{ items: Instance[] }>(g, `/api/v1/namespaces/default/instances?fieldSelector=spec.service%3D${name}`)).items;
const service = (g: GantryProcesses, name = 'race') => api<Service>(g, `/api/v1/namespaces/default/services/${name}`);
const serving = (list: readonly Instance[]) => list.filter((i) => i.status?.ready === true && !i.spec.stop);

async function answers(list: readonly Instance[]): Promise<string[]> {
  const got = await Promise.all(list.map((i) => httpGet(endpointOf(i)).then((b) => b.trim(), () => 'no answer')));
  return got.sort();
}

describe('issue 11: an update before the previous rollout is marked Complete', () => {
  const t = useGantryUp();

  it('v2 applied while v1 is still Progressing fails at the deadline and rolls back to v1; v1 back to 3/3, v2 gone', async () => {
    expect((await t.g.apply(web(t.image, 'v1', 60))).code).toBe(0);
    // All three v1 instances serve, and v1's rollout is still Progressing (minReadySeconds 30).
    await waitFor('3 v1 instances answering', async () => {
      const got = await answers(serving(await instances(t.g)));
      return got.join() === 'v1,v1,v1';
    }, 60_000);
    const before = await service(t.g);
    expect(before.status?.rollout).toMatchObject({ phase: 'Progressing', version: 1 });

    const appliedAt = Date.now();
    expect((await t.g.apply(web(MISSING_IMAGE, 'v2', DEADLINE_S))).code).toBe(0);
    let v2StartedAt: number | undefined;
    const rolledBack = await waitFor('the rollback', async () => {
      const s = await service(t.g);
      const r = s.status?.rollout;
      if (r?.version === 2 && r.startedAt) v2StartedAt = Date.parse(r.startedAt);
      return r?.phase === 'RolledBack' ? s : undefined;
    }, 60_000, 200);
    const wallS = (Date.now() - appliedAt) / 1000;
    // From v2's rollout start (the controller's clock) to the rollback version's start.
    const afterStartS = (Date.parse(rolledBack.status?.rollout?.startedAt ?? '') - (v2StartedAt ?? NaN)) / 1000;
    console.log(
      `issue 11 race: v1 was ${before.status?.rollout?.phase} with 3 instances answering at the apply; RolledBack ${afterStartS.toFixed(1)} s after v2's rollout started, ${wallS.toFixed(1)} s after the apply command (deadline ${DEADLINE_S} s)`,
    );
    expect(afterStartS).toBeLessThan(DEADLINE_S + 3);
    // The apply command itself (a node process start) takes seconds on a loaded machine: a looser bound.
    expect(wallS).toBeLessThan(DEADLINE_S + 15);
    expect(rolledBack.status?.rollout).toMatchObject({ version: 3, fromVersion: 1 });
    expect(rolledBack.status?.rollout?.message).toMatch(/^rolled back to v1: v2 made no progress within 10s \(ProgressDeadlineExceeded\): instance race-\w+: .*missing:404/);
    expect(rolledBack.spec.containers[0]?.image).toBe(t.image);

    // 3/3 v1 running and answering; no v2 instance left.
    const settled = await waitFor('3 v1 instances answering and no v2 instance', async () => {
      const list = await instances(t.g);
      if (list.some((i) => i.spec.containers[0]?.image === MISSING_IMAGE)) return undefined;
      const got = await answers(serving(list));
      return got.join() === 'v1,v1,v1' ? list : undefined;
    }, 60_000);
    expect(settled.filter((i) => i.status?.phase === 'Running' && !i.spec.stop)).toHaveLength(3);
    console.log(`issue 11 race: 3/3 v1 answering and v2 gone ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after applying v2`);

    // The events tell the story, in order.
    const events = (await t.g.cli(['get', 'events'])).stdout.split('\n').filter((l) => l.includes('service/race'));
    const at = (re: RegExp) => events.findIndex((l) => re.test(l));
    const started = at(/RolloutStarted +service\/race +rolling out v2 \(from v1\)/);
    const failed = at(/RolloutFailed +service\/race +v2 made no progress within 10s \(ProgressDeadlineExceeded\)/);
    const back = at(/RolledBack +service\/race +rolled back to v1: v2 made no progress/);
    expect([started, failed, back].every((i) => i >= 0), events.join('\n')).toBe(true);
    expect(started).toBeLessThan(failed);
    expect(failed).toBeLessThan(back);
    expect(events.filter((l) => /NoRollbackTarget|RolloutFailed +service\/race +v1/.test(l))).toEqual([]);
  });

  it('v2 applied while v1 has never been ready: no target, the event and status say so, v1 is scaled back up to 3, v2 backs off', async () => {
    // v1 starts slowly: its health check waits 5 minutes before the first probe, so it is never ready here.
    const slow = { name: 'norb', startPeriod: '300s' };
    expect((await t.g.apply(web(t.image, 'v1', 60, slow))).code).toBe(0);
    await waitFor('3 v1 instances running', async () => {
      const live = (await instances(t.g, 'norb')).filter((i) => i.status?.phase === 'Running' && !i.spec.stop);
      return live.length === 3 ? live : undefined;
    }, 60_000);
    expect((await service(t.g, 'norb')).status?.rollout).toMatchObject({ phase: 'Progressing', version: 1 });

    expect((await t.g.apply(web(MISSING_IMAGE, 'v2', DEADLINE_S, slow))).code).toBe(0);
    const failed = await waitFor('the rollout of v2 to fail', async () => {
      const s = await service(t.g, 'norb');
      return s.status?.rollout?.version === 2 && s.status.rollout.phase === 'Failed' ? s : undefined;
    }, 60_000, 200);
    expect(failed.status?.rollout?.fromVersion).toBeUndefined();
    expect(failed.status?.rollout?.message).toMatch(/^v2 made no progress within 10s \(ProgressDeadlineExceeded\): instance norb-\w+: .*missing:404.*; no earlier version completed; staying on v2 with 0 of 3 available$/);
    const progressing = failed.status?.conditions.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(failed.spec.containers[0]?.image).toBe(MISSING_IMAGE);

    // Held: v1 is back at 3 live instances, and stays so; the v2 instances wait, retrying with back-off.
    const v1Live = (list: readonly Instance[]) => list.filter((i) => i.spec.containers[0]?.image === t.image && !i.spec.stop && i.status?.phase !== 'Failed');
    const held = await waitFor('v1 scaled back up to 3', async () => {
      const list = await instances(t.g, 'norb');
      return v1Live(list).length === 3 ? list : undefined;
    }, 30_000);
    const v2 = held.filter((i) => i.spec.containers[0]?.image === MISSING_IMAGE);
    expect(v2.length).toBeGreaterThan(0);
    expect(v2.length).toBeLessThanOrEqual(2);
    for (let sample = 0; sample < 10; sample++) {
      await new Promise((r) => setTimeout(r, 500));
      const list = await instances(t.g, 'norb');
      expect(v1Live(list)).toHaveLength(3);
      expect(list.filter((i) => i.spec.containers[0]?.image === MISSING_IMAGE).map((i) => i.metadata.name).sort()).toEqual(v2.map((i) => i.metadata.name).sort());
    }
    const waiting = (await instances(t.g, 'norb')).filter((i) => i.spec.containers[0]?.image === MISSING_IMAGE);
    for (const i of waiting) expect(i.status?.containers[0]?.message ?? i.status?.message ?? '').toMatch(/retrying in \d+(\.\d+)?(ms|s|m)/);
    console.log(`issue 11 no target: v1 back at 3 live; v2 waiting: ${waiting.map((i) => i.status?.containers[0]?.message ?? i.status?.message).join(' | ')}`);

    const events = (await t.g.cli(['get', 'events'])).stdout.split('\n').filter((l) => l.includes('service/norb'));
    const at = (re: RegExp) => events.findIndex((l) => re.test(l));
    const failedAt = at(/RolloutFailed +service\/norb +v2 made no progress within 10s/);
    const noTarget = at(/NoRollbackTarget +service\/norb +no earlier version completed; staying on v2 with 0 of 3 available/);
    const scaled = at(/ScalingUp +service\/norb +scaled v1 back up to 3 \(norb-\w+\): the rollout of v2 failed and was not rolled back/);
    expect([failedAt, noTarget, scaled].every((i) => i >= 0), events.join('\n')).toBe(true);
    expect(failedAt).toBeLessThan(noTarget);
    expect(events.filter((l) => /RolledBack/.test(l))).toEqual([]);
  });
});
