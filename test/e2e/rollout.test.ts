// Rollouts on a real dockerd: a rolling update that keeps 3 of 4 replicas answering, an image that
// cannot be pulled (deadline, automatic rollback, v1 untouched), undo, pause and canary + promote.
// Each replica answers HTTP with its service version, so the test sees which version serves.
import { describe, expect, it } from 'vitest';
import type { Instance, Service } from '../../src/core/index.js';
import { useGantryUp, type GantryProcesses } from '../support/gantry-process.js';
import { endpointOf, httpGet } from '../support/instances.js';
import { sleep, waitFor } from '../support/wait.js';

/** A registry on loopback that is not there: the pull fails at once, and no traffic leaves the machine. */
const MISSING_IMAGE = '127.0.0.1:9/gantry-test/missing:404';

function versioned(name: string, replicas: number, image: string, version: string, update: string): string {
  return `apiVersion: gantry/v1
kind: Service
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  update: ${update}
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
        interval: 1s
`;
}

async function api<T>(g: GantryProcesses, path: string): Promise<T> {
  const r = await g.fetch(`${g.url}${path}`, { headers: { authorization: `Bearer ${g.token}` }, signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`GET ${path} -> ${r.status}`);
  return (await r.json()) as T;
}

/** The service's instances straight from the API (the spec.service index), as discovery would read them. */
async function instances(g: GantryProcesses, service: string): Promise<Instance[]> {
  const list = await api<{ items: Instance[] }>(g, `/api/v1/namespaces/default/instances?fieldSelector=spec.service%3D${service}`);
  return list.items;
}

const service = (g: GantryProcesses, name: string) => api<Service>(g, `/api/v1/namespaces/default/services/${name}`);

/** Ready and not being stopped: what a load balancer would send traffic to. */
const serving = (list: readonly Instance[]) => list.filter((i) => i.status?.ready === true && !i.spec.stop);
/** Live and not being stopped, by the version each runs (from its environment). */
const versionsOf = (list: readonly Instance[]) =>
  list
    .filter((i) => !i.spec.stop && (i.status?.phase === 'Running' || i.status?.phase === 'Pending' || i.status?.phase === 'Starting'))
    .map((i) => i.spec.containers[0]?.env?.VERSION ?? '?')
    .sort();

async function answers(list: readonly Instance[]): Promise<string[]> {
  const got = await Promise.all(list.map((i) => httpGet(endpointOf(i)).then((b) => b.trim(), () => 'no answer')));
  return got.sort();
}

async function rolloutPhase(g: GantryProcesses, name: string, phase: string, timeoutMs = 90_000): Promise<Service> {
  return waitFor(`rollout of ${name} to be ${phase}`, async () => {
    const s = await service(g, name);
    return s.status?.rollout?.phase === phase && (s.status.observedGeneration ?? 0) >= (s.metadata.generation ?? 0) ? s : undefined;
  }, timeoutMs);
}

describe('rollouts on real Docker', () => {
  const t = useGantryUp();

  it('rolls 4 replicas v1 -> v2 with maxUnavailable 1: at least 3 answer at every sample, then all answer v2', async () => {
    const update = '{ maxSurge: 1, maxUnavailable: 1 }';
    expect((await t.g.apply(versioned('web', 4, t.image, 'v1', update))).code).toBe(0);
    await rolloutPhase(t.g, 'web', 'Complete');
    expect(await answers(serving(await instances(t.g, 'web')))).toEqual(['v1', 'v1', 'v1', 'v1']);

    expect((await t.g.apply(versioned('web', 4, t.image, 'v2', update))).code).toBe(0);
    const samples: { answering: number; versions: string[] }[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      const list = await instances(t.g, 'web');
      const got = (await answers(serving(list))).filter((a) => a !== 'no answer');
      samples.push({ answering: got.length, versions: got });
      const s = await service(t.g, 'web');
      if (s.status?.rollout?.version === 2 && s.status.rollout.phase === 'Complete') break;
      if (Date.now() > deadline) throw new Error(`rollout did not complete: ${JSON.stringify(s.status?.rollout)}`);
      await sleep(200);
    }
    expect(samples.length).toBeGreaterThan(3);
    expect(samples.filter((x) => x.answering < 3)).toEqual([]);
    // Both versions served side by side at some point: it was a rolling update, not a swap.
    expect(samples.some((x) => x.versions.includes('v1') && x.versions.includes('v2'))).toBe(true);
    expect(await answers(serving(await instances(t.g, 'web')))).toEqual(['v2', 'v2', 'v2', 'v2']);

    const status = await t.g.cli(['rollout', 'status', 'service', 'web']);
    expect(status.stdout).toMatch(/^service\/web: v2 Complete: v2 rolled out: 4 of 4 instances up to date and available/);
    const events = await t.g.cli(['describe', 'service', 'web']);
    expect(events.stdout).toMatch(/RollingUpdate +.*scaled up v2 to \d/);
    expect(events.stdout).toMatch(/scaled down v1 to \d \(stopping web-/);
  });

  it('rollout undo returns to v1 (a new version, v3, with the template of v1)', async () => {
    const history = await t.g.cli(['rollout', 'history', 'svc/web']);
    expect(history.stdout).toMatch(/^VERSION +IMAGES +CAUSE +AGE\nv1 .* created .*\n\*v2 .* apply /);
    const undo = await t.g.cli(['rollout', 'undo', 'service', 'web']);
    expect(undo.code).toBe(0);
    expect(undo.stdout.trim()).toBe('service/web: rolling back to the template of v1');
    const watch = await t.g.cli(['rollout', 'status', 'service', 'web', '-w']);
    expect(watch.code).toBe(0);
    expect(watch.stdout.trim().split('\n').at(-1)).toMatch(/^service\/web: v3 Complete/);
    await waitFor('every serving replica to answer v1', async () => {
      const got = await answers(serving(await instances(t.g, 'web')));
      return got.length === 4 && got.every((a) => a === 'v1');
    });
    const versions = await t.g.cli(['get', 'versions']);
    expect(versions.stdout).toMatch(/web-v3 +web +v3 +.*rollout undo to v1/);
  });

  it('an image that cannot be pulled: the rollout stops at the deadline, rolls back by itself, v1 stays fully available', async () => {
    const update = (image: string) => versioned('bad', 3, image, image === t.image ? 'v1' : 'v2', '{ maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 6 }');
    expect((await t.g.apply(update(t.image))).code).toBe(0);
    await rolloutPhase(t.g, 'bad', 'Complete');
    const v1 = serving(await instances(t.g, 'bad')).map((i) => i.metadata.name).sort();
    expect(v1).toHaveLength(3);

    expect((await t.g.apply(update(MISSING_IMAGE))).code).toBe(0);
    const watch = t.g.cli(['rollout', 'status', 'service', 'bad', '--watch']);
    // v1 keeps serving all three replicas all along.
    let rolledBack: Service | undefined;
    while (!rolledBack) {
      expect(await answers(serving(await instances(t.g, 'bad')))).toEqual(['v1', 'v1', 'v1']);
      const s = await service(t.g, 'bad');
      if (s.status?.rollout?.phase === 'RolledBack') rolledBack = s;
      else await sleep(300);
    }
    const r = rolledBack.status!.rollout!;
    expect(r.version).toBe(3);
    expect(r.message).toMatch(/^rolled back to v1: v2 made no progress within 6s \(ProgressDeadlineExceeded\): instance bad-\w+: .*missing:404/);
    expect(rolledBack.spec.containers[0]?.image).toBe(t.image);
    const progressing = rolledBack.status?.conditions.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'RolledBack' });
    const watched = await watch;
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/service\/bad: v2 Progressing/);
    expect(watched.stdout).toMatch(/service\/bad: v3 RolledBack: rolled back to v1/);
    // The same three v1 instances serve; the v2 one is gone.
    await waitFor('only the v1 instances to be left', async () => {
      const list = await instances(t.g, 'bad');
      return list.length === 3 && list.map((i) => i.metadata.name).sort().join() === v1.join() ? list : undefined;
    });
    const events = await t.g.cli(['get', 'events']);
    expect(events.stdout).toMatch(/RolloutFailed +service\/bad +v2 made no progress within 6s/);
    expect(events.stdout).toMatch(/RolledBack +service\/bad +rolled back to v1/);
  });

  it('pause mid-rollout holds the mix of versions; resume finishes', async () => {
    const update = '{ maxSurge: 1, maxUnavailable: 0, minReadySeconds: 2 }';
    expect((await t.g.apply(versioned('pz', 4, t.image, 'v1', update))).code).toBe(0);
    await rolloutPhase(t.g, 'pz', 'Complete');
    expect((await t.g.apply(versioned('pz', 4, t.image, 'v2', update))).code).toBe(0);
    await waitFor('a v2 instance serving', async () => (await answers(serving(await instances(t.g, 'pz')))).includes('v2'));
    expect((await t.g.cli(['rollout', 'pause', 'service', 'pz'])).stdout.trim()).toBe('service/pz: rollout paused');
    await rolloutPhase(t.g, 'pz', 'Paused');
    // Anything created before the pause landed may still turn ready; then the mix holds.
    await waitFor('every live pz instance ready', async () => {
      const live = (await instances(t.g, 'pz')).filter((i) => !i.spec.stop);
      return live.every((i) => i.status?.ready) ? live : undefined;
    });
    const held = versionsOf(await instances(t.g, 'pz'));
    expect(held).toContain('v1');
    expect(held).toContain('v2');
    for (let sample = 0; sample < 12; sample++) {
      await sleep(500);
      expect(versionsOf(await instances(t.g, 'pz'))).toEqual(held);
    }
    expect((await t.g.cli(['rollout', 'resume', 'svc/pz'])).code).toBe(0);
    await rolloutPhase(t.g, 'pz', 'Complete');
    expect(await answers(serving(await instances(t.g, 'pz')))).toEqual(['v2', 'v2', 'v2', 'v2']);
  });

  it('canary: 1 new instance, then CanaryPaused until promote, then all new', async () => {
    const update = '{ maxSurge: 1, maxUnavailable: 0, canary: 1 }';
    expect((await t.g.apply(versioned('can', 3, t.image, 'v1', update))).code).toBe(0);
    await rolloutPhase(t.g, 'can', 'Complete');
    expect((await t.g.apply(versioned('can', 3, t.image, 'v2', update))).code).toBe(0);
    await rolloutPhase(t.g, 'can', 'CanaryPaused');
    expect(await answers(serving(await instances(t.g, 'can')))).toEqual(['v1', 'v1', 'v2']);
    const status = await t.g.cli(['rollout', 'status', 'service', 'can']);
    expect(status.stdout).toMatch(/v2 CanaryPaused: canary of v2: 1 new instance available; waiting for promote/);
    expect(status.stdout).toMatch(/continue with: gantry rollout promote service can/);
    expect((await t.g.cli(['rollout', 'promote', 'service', 'can'])).stdout.trim()).toBe('service/can: v2 promoted');
    await rolloutPhase(t.g, 'can', 'Complete');
    expect(await answers(serving(await instances(t.g, 'can')))).toEqual(['v2', 'v2', 'v2']);
    // describe shows only the latest events; the whole story is in `events --for`.
    const events = await t.g.cli(['events', '--for', 'service/can']);
    expect(events.stdout).toMatch(/CanaryWaiting +.*canary waiting for promote/);
  });
});
