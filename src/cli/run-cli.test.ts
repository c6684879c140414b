// The command tree against a fake client: output, error text and exit codes as a user sees them.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ApplyResult, GantryClient } from '../client/types.js';
import { InvalidError, NotFoundError, type Manifest } from '../core/index.js';
import { runCli } from './run-cli.js';
import { aNode, anInstance, aService, stored } from '../core/test-builders.js';
import { ago, fakeClient, testContext } from './test-helpers.js';

const token = { GANTRY_TOKEN: 't0k3n' };
const twoServices = `apiVersion: gantry/v1
kind: Service
metadata:
  name: web
spec:
  containers: [{ name: web, image: x }]
---
apiVersion: gantry/v1
kind: Service
metadata:
  name: api
spec:
  replicas: -1
  containers: [{ name: api, image: x }]
`;

function applyingClient(results: Record<string, ApplyResult | Error>, seen: Manifest[] = []): GantryClient {
  return fakeClient({
    apply: (m) => {
      seen.push(m);
      const r = results[m.metadata.name];
      if (r instanceof Error) return Promise.reject(r);
      return Promise.resolve({ object: stored(aService(m.metadata.name)), result: r ?? 'created' });
    },
  });
}

describe('gantry apply', () => {
  it('says when an apply puts back replicas or resumes a paused rollout', async () => {
    const current = stored(aService('web', { replicas: 5 }));
    current.spec.paused = true;
    const ctx = testContext({
      env: token,
      files: { 'app.yaml': twoServices.split('---')[0]!.replace('spec:', 'spec:\n  replicas: 3') },
      client: fakeClient({ get: (() => Promise.resolve(current)) as GantryClient['get'], apply: () => Promise.resolve({ object: stored(aService('web', { replicas: 3 })), result: 'configured' as const }) }),
    });
    expect(await runCli(ctx, ['apply', '-f', 'app.yaml'])).toBe(0);
    expect(ctx.out).toBe('service/web configured (replicas 5 → 3; rollout resumed: the file has no paused: true)\n');
  });

  it('--dry-run prints the plan (changed lines, placement) and applies nothing', async () => {
    const applied: Manifest[] = [];
    const ctx = testContext({
      env: token,
      files: { 'app.yaml': twoServices.split('---')[0]! },
      client: fakeClient({
        apply: (m) => (applied.push(m), Promise.reject(new Error('no apply in a dry run'))),
        planApply: () =>
          Promise.resolve({
            dryRun: true as const,
            result: 'configured' as const,
            revision: 12,
            diff: [{ op: ' ' as const, line: 'spec:' }, { op: '-' as const, line: '  replicas: 1' }, { op: '+' as const, line: '  replicas: 3' }],
            placement: { replicas: 3, nodes: [{ node: 'node-a', count: 2 }], failures: [{ count: 1, reason: '0/1 nodes fit: 1 insufficient cpu' }], summary: '1 running stay; 2 to place: 2 on node-a; 1 cannot be placed: 0/1 nodes fit: 1 insufficient cpu' },
          }),
      }),
    });
    expect(await runCli(ctx, ['apply', '--dry-run', '-f', 'app.yaml'])).toBe(0);
    expect(applied).toEqual([]);
    expect(ctx.out).toBe(
      'service/web would be configured (planned against revision 12)\n  -   replicas: 1\n  +   replicas: 3\n  placement: 1 running stay; 2 to place: 2 on node-a; 1 cannot be placed: 0/1 nodes fit: 1 insufficient cpu\n',
    );
  });

  it('applies each document and prints what happened to it', async () => {
    const seen: Manifest[] = [];
    const ctx = testContext({ env: token, files: { 'app.yaml': twoServices.replace('replicas: -1', 'replicas: 2') }, client: applyingClient({ web: 'created', api: 'unchanged' }, seen) });
    expect(await runCli(ctx, ['apply', '-f', 'app.yaml'])).toBe(0);
    expect(ctx.out).toBe('service/web created\nservice/api unchanged\n');
    expect(seen.map((m) => m.metadata.name)).toEqual(['web', 'api']);
    expect(ctx.connections).toEqual([{ server: 'https://127.0.0.1:7070', token: 't0k3n' }]);
  });

  it('prints 422 details one per line, goes on with the rest, and exits 1', async () => {
    const invalid = new InvalidError('service "api" is invalid: 1 problem', [{ path: 'spec.replicas', message: 'must be a whole number from 0 to 100000' }]);
    const ctx = testContext({ env: token, stdin: twoServices, client: applyingClient({ api: invalid }) });
    expect(await runCli(ctx, ['apply', '-f', '-'])).toBe(1);
    expect(ctx.out).toBe('service/web created\n');
    expect(ctx.err).toBe('error: <stdin>, line 8: service/api: service "api" is invalid: 1 problem\n  spec.replicas: must be a whole number from 0 to 100000\n');
  });

  it('sends nothing when the file has a YAML error', async () => {
    const seen: Manifest[] = [];
    const ctx = testContext({ env: token, files: { 'bad.yaml': 'kind: Service\nmetadata:\n  name: a: b\n' }, client: applyingClient({}, seen) });
    expect(await runCli(ctx, ['apply', '-f', 'bad.yaml'])).toBe(1);
    expect(ctx.err).toMatch(/^error: bad\.yaml, line 3, column 9: /);
    expect(seen).toEqual([]);
  });

  it('fills the namespace from -n only where the document names none', async () => {
    const seen: Manifest[] = [];
    const ctx = testContext({ env: token, files: { 'app.yaml': twoServices.replace('replicas: -1', 'replicas: 2').replace('name: api', 'name: api\n  namespace: keep') }, client: applyingClient({}, seen) });
    await runCli(ctx, ['apply', '-n', 'team-a', '-f', 'app.yaml']);
    expect(seen.map((m) => m.metadata.namespace)).toEqual(['team-a', 'keep']);
  });

  it('says which file is missing', async () => {
    const ctx = testContext({ env: token });
    expect(await runCli(ctx, ['apply', '-f', 'nope.yaml'])).toBe(1);
    expect(ctx.err).toBe('error: cannot read nope.yaml: no such file\n');
  });
});

describe('gantry get', () => {
  const listing = (namespaces: (string | undefined)[]) =>
    fakeClient({
      list: ((_kind: unknown, opts?: { namespace?: string }) => {
        namespaces.push(opts?.namespace);
        return Promise.resolve({ items: [stored(aService('web', { replicas: 3, status: { replicas: 3, readyReplicas: 3, conditions: [] } }), { createdAt: ago(300) })], revision: 9 });
      }) as GantryClient['list'],
    });

  it('prints a table of the default namespace', async () => {
    const namespaces: (string | undefined)[] = [];
    const ctx = testContext({ env: token, client: listing(namespaces) });
    expect(await runCli(ctx, ['get', 'svc'])).toBe(0);
    expect(ctx.out).toBe('NAME   READY   UP-TO-DATE   AVAILABLE   VERSION   AGE\nweb    3/3     0            0           <none>    5m\n');
    expect(namespaces).toEqual(['default']);
  });

  it('prints a List with -o yaml, across namespaces with -A', async () => {
    const namespaces: (string | undefined)[] = [];
    const ctx = testContext({ env: token, client: listing(namespaces) });
    expect(await runCli(ctx, ['get', 'services', '-A', '-o', 'yaml'])).toBe(0);
    const doc = parse(ctx.out) as { kind: string; items: { metadata: { name: string } }[] };
    expect(doc.kind).toBe('List');
    expect(doc.items.map((i) => i.metadata.name)).toEqual(['web']);
    expect(namespaces).toEqual([undefined]);
  });

  it('prints one object as itself with -o json', async () => {
    const ctx = testContext({ env: token, client: fakeClient({ get: (() => Promise.resolve(stored(aService('web')))) as GantryClient['get'] }) });
    expect(await runCli(ctx, ['get', 'svc', 'web', '-o', 'json'])).toBe(0);
    expect((JSON.parse(ctx.out) as { kind: string }).kind).toBe('Service');
  });

  it('rejects an unknown kind or format before calling the server', async () => {
    const ctx = testContext({ env: token });
    expect(await runCli(ctx, ['get', 'pods'])).toBe(1);
    expect(ctx.err).toContain('error: unknown kind "pods": use one of services (svc)');
    expect(ctx.connections).toEqual([]);
    const ctx2 = testContext({ env: token });
    expect(await runCli(ctx2, ['get', 'svc', '-o', 'xml'])).toBe(1);
    expect(ctx2.err).toBe('error: unknown output format "xml": use one of wide, json, yaml\n');
  });

  it("lists services' instances, or job runs with --jobs under a JOB column; get nodes counts what still runs", async () => {
    const running = { phase: 'Running' as const, ready: true, containers: [] };
    const instances = [
      anInstance('web-abcde', { node: 'n1', createdAt: ago(60), status: running }),
      anInstance('backup-1', { node: 'n1', service: 'backup', createdAt: ago(60), spec: { ownerKind: 'Job' }, status: { phase: 'Succeeded', ready: false, containers: [] } }),
      anInstance('backup-2', { node: 'n1', service: 'backup', createdAt: ago(60), spec: { ownerKind: 'Job' }, status: running }),
    ];
    const client = fakeClient({
      list: ((kind: string) => Promise.resolve({ items: kind === 'Node' ? [stored(aNode('n1', { ready: true }), { createdAt: ago(60) })] : instances, revision: 9 })) as GantryClient['list'],
      get: ((_k: string, _ns: string, name: string) => Promise.resolve(instances.find((i) => i.metadata.name === name))) as GantryClient['get'],
    });
    const svc = testContext({ env: token, client });
    expect(await runCli(svc, ['get', 'instances'])).toBe(0);
    expect(svc.out.split('\n')[0]).toMatch(/^NAME +SERVICE +NODE/);
    expect(svc.out).toContain('web-abcde');
    expect(svc.out).not.toContain('backup');
    const jobs = testContext({ env: token, client });
    expect(await runCli(jobs, ['get', 'instances', '--jobs'])).toBe(0);
    expect(jobs.out.split('\n').filter(Boolean).map((l) => l.split(/ +/).slice(0, 4).join(' '))).toEqual(['NAME JOB NODE PHASE', 'backup-1 backup n1 Succeeded', 'backup-2 backup n1 Running']);
    const one = testContext({ env: token, client });
    expect(await runCli(one, ['get', 'instance', 'backup-2'])).toBe(0);
    expect(one.out).toMatch(/^NAME +JOB +NODE/);
    const nodes = testContext({ env: token, client });
    expect(await runCli(nodes, ['get', 'nodes'])).toBe(0);
    expect(nodes.out.split('\n')[1]).toMatch(/^n1 +true +\S+ +\S+ +2 /); // the finished run is not counted
    const wrong = testContext({ env: token, client });
    expect(await runCli(wrong, ['get', 'services', '--jobs'])).toBe(1);
    expect(wrong.err).toBe('error: --jobs only goes with gantry get instances\n');
  });

  it('prints a server error without a stack trace and exits 1', async () => {
    const ctx = testContext({ env: token, client: fakeClient({ get: (() => Promise.reject(new NotFoundError('Service', 'default', 'nope'))) }) });
    expect(await runCli(ctx, ['get', 'svc', 'nope'])).toBe(1);
    expect(ctx.err).toBe('error: service "default/nope" not found\n');
  });
});

describe('gantry scale, delete and usage errors', () => {
  it('scales a service', async () => {
    const calls: unknown[][] = [];
    const client = fakeClient({ scale: (ns, name, n) => (calls.push([ns, name, n]), Promise.resolve(stored(aService(name, { replicas: n })))) });
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['scale', 'service', 'web', '--replicas', '5'])).toBe(0);
    expect(calls).toEqual([['default', 'web', 5]]);
    expect(ctx.out).toBe('service/web scaled to 5\n');
  });

  it('refuses a replica count that is not a whole number', async () => {
    const ctx = testContext({ env: token });
    expect(await runCli(ctx, ['scale', 'svc', 'web', '--replicas', 'lots'])).toBe(1);
    expect(ctx.err).toBe('error: --replicas must be a whole number, not "lots"\n');
  });

  it('deletes a cluster-wide object without a namespace', async () => {
    const calls: unknown[][] = [];
    const client = fakeClient({ delete: (kind, ns, name) => (calls.push([kind, ns, name]), Promise.resolve(stored(aService(name)))) });
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['delete', 'node', 'n1'])).toBe(0);
    expect(calls).toEqual([['Node', undefined, 'n1']]);
    expect(ctx.out).toBe('node/n1 deleted\n');
  });

  it('reports a missing argument through commander with exit code 1', async () => {
    const ctx = testContext({ env: token });
    expect(await runCli(ctx, ['describe', 'svc'])).toBe(1);
    expect(ctx.err).toContain("error: missing required argument 'name'");
  });

  it('tells a user without a token how to get one', async () => {
    const ctx = testContext();
    expect(await runCli(ctx, ['get', 'svc'])).toBe(1);
    expect(ctx.err).toBe('error: no token: start Gantry with `npm run up`, or set GANTRY_TOKEN or pass --token-file\n');
  });
});
