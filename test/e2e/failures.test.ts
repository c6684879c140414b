// What goes wrong: an image that does not exist, and bad input. Nothing else breaks, nothing bad is stored.
import { describe, expect, it } from 'vitest';
import { useGantryUp } from '../support/gantry-process.js';
import { instancesOf, readyCount, webService } from '../support/instances.js';
import { sleep, waitFor } from '../support/wait.js';

describe('failures', () => {
  const t = useGantryUp();

  it('an image that does not exist: the status says so, attempts back off, other services run', async () => {
    expect((await t.g.apply(webService('ghost', 1, 'gantry-test/does-not-exist:404'))).code).toBe(0);
    expect((await t.g.apply(webService('fine', 1, t.image))).code).toBe(0);

    const stuck = await waitFor('the ghost instance to report the missing image', async () => {
      const i = (await instancesOf(t.g, 'ghost'))[0];
      const text = `${i?.status?.message ?? ''} ${i?.status?.containers.map((c) => c.message ?? '').join(' ') ?? ''}`;
      return /gantry-test\/does-not-exist:404/.test(text) && /not found/i.test(text) ? i : undefined;
    });
    expect(stuck.status?.ready).toBe(false);
    await waitFor('the healthy service to be ready', async () => readyCount(await instancesOf(t.g, 'fine')) === 1);

    // Back-off: over 6 s, a tight loop would pull hundreds of times; the agent logs each attempt.
    const attempts = () => (t.g.logOf('up').match(/does-not-exist:404/g) ?? []).length;
    const before = attempts();
    await sleep(6000);
    expect(attempts() - before).toBeLessThan(15);
    const describe = await t.g.cli(['describe', 'instance', stuck.metadata.name]);
    expect(describe.stdout).toMatch(/not found/i);
  });

  it('malformed YAML names the line', async () => {
    const r = await t.g.apply('apiVersion: gantry/v1\nkind: Service\nmetadata:\n  name: [oops\nspec: {}\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/line \d+/);
  });

  it('an unknown field, negative replicas and memory "lots" are refused with field paths, and nothing is stored', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata: { name: bad }
spec:
  replicas: -2
  colour: blue
  containers:
    - name: app
      image: ${t.image}
      resources: { memory: lots }
`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.replicas');
    expect(r.stderr).toContain('spec.colour');
    expect(r.stderr).toContain('spec.containers[0].resources.memory: must be a quantity like 128Mi');
    const got = await t.g.cli(['get', 'service', 'bad']);
    expect(got.code).not.toBe(0);
    expect(got.stderr).toMatch(/not found/);
  });

  it('the API answers 4xx with field paths and refuses requests without a token', async () => {
    const put = (body: string, token?: string) =>
      t.g.fetch(`${t.g.url}/api/v1/namespaces/default/services/bad`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
      });
    expect((await put('{}')).status).toBe(401);
    const malformed = await put('{"apiVersion": ', t.g.token);
    expect(malformed.status).toBe(400);
    const invalid = await put(JSON.stringify({ apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'bad' }, spec: { replicas: -1, containers: [] } }), t.g.token);
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as { error: { code: string; details: { path: string }[] } };
    expect(body.error.code).toBe('INVALID');
    expect(body.error.details.map((d) => d.path).sort()).toEqual(['spec.containers', 'spec.replicas']);
    expect((await t.g.fetch(`${t.g.url}/healthz`)).status).toBe(200);
  });
});
