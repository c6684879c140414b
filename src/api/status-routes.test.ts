import { afterEach, describe, expect, it } from 'vitest';
import type { GantryNode, Instance, NodeStatus } from '../core/index.js';
import { aRunningStatus, startHarness, type Harness } from './test-helpers.js';
import { aNode, anInstance } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const nodeStatus = (over: Partial<NodeStatus> = {}): NodeStatus => ({
  ready: false,
  capacity: { cpu: 4000, memory: 8 * 2 ** 30 },
  driver: 'fake',
  agentUrl: 'http://10.0.0.1:7071',
  conditions: [],
  ...over,
});

describe('status subresource', () => {
  it('replaces an instance status and never its spec', async () => {
    h = await startHarness();
    const inst = await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const res = await h.call({
      method: 'PUT',
      url: '/api/v1/namespaces/default/instances/web-aaaaa/status',
      token: await h.node('n1'),
      payload: { status: aRunningStatus() },
    });
    expect(res.statusCode).toBe(200);
    const stored = (await h.store.get('Instance', 'default', 'web-aaaaa'))!;
    expect(stored.status?.phase).toBe('Running');
    expect(stored.spec).toEqual(inst.spec);
  });

  it('answers 409 for a stale revision and 422 with paths for a bad status', async () => {
    h = await startHarness();
    const inst = await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const url = '/api/v1/namespaces/default/instances/web-aaaaa/status';
    await h.call({ method: 'PUT', url, token: await h.node('n1'), payload: { status: aRunningStatus('one') } });
    const stale = await h.call({ method: 'PUT', url, token: await h.node('n1'), payload: { status: aRunningStatus('two'), metadata: { revision: inst.metadata.revision } } });
    expect(stale.statusCode).toBe(409);
    const bad = await h.call({ method: 'PUT', url, token: await h.node('n1'), payload: { status: { phase: 'Dancing', ready: true, containers: [] } } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json<{ error: { details: { path: string }[] } }>().error.details.map((d) => d.path)).toContain('status.phase');
  });

  it('refuses a hostIP that could break HAProxy config lines or runtime commands, with the field path', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    const bad = { ...aRunningStatus(), hostIP: '1.2.3.4;shutdown' };
    const one = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/instances/web-aaaaa/status', token: await h.node('n1'), payload: { status: bad } });
    expect(one.statusCode).toBe(422);
    expect(one.json<{ error: { details: { path: string }[] } }>().error.details.map((d) => d.path)).toEqual(['status.hostIP']);
    const batch = await h.call({ method: 'POST', url: '/api/v1/status/instances', token: await h.node('n1'), payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status: bad }] } });
    expect(batch.json<{ results: { ok: boolean; error?: { message: string } }[] }>().results[0]).toMatchObject({ ok: false, error: { message: expect.stringContaining('status.hostIP must be an IP address') } });
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.hostIP).toBeUndefined();
  });

  it('refuses what an agent reports about where it is unless it is an IP, a clean URL and a driver name, with field paths', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
    const paths = (res: { json(): unknown }): string[] => (res.json() as { error: { details: { path: string }[] } }).error.details.map((d) => d.path);
    const inst = await h.call({
      method: 'PUT',
      url: '/api/v1/namespaces/default/instances/web-aaaaa/status',
      token: await h.node('n1'),
      payload: { status: aRunningStatus('c0ffee', { hostIP: '1.2.3.4;shutdown' }) },
    });
    expect(inst.statusCode).toBe(422);
    expect(paths(inst)).toEqual(['status.hostIP']);
    const batch = await h.call({
      method: 'POST',
      url: '/api/v1/status/instances',
      token: await h.node('n1'),
      payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status: aRunningStatus('c0ffee', { hostIP: 'evil.example' }) }] },
    });
    expect(batch.json().results[0]).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    // A URL that is not its own address and agent port is the node authorizer's 403 (it is no IP
    // literal's business); within them, what it reports is held to strict patterns (422 with paths).
    const bad = nodeStatus({ driver: 'docker\nevil', address: '10.0.0.5 # x', agentUrl: 'http://10.0.0.1:7071/ latest' });
    const node = await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: bad } });
    expect(node.statusCode).toBe(422);
    expect(paths(node).sort()).toEqual(['status.address', 'status.agentUrl', 'status.driver']);
    const metadata = nodeStatus({ agentUrl: 'http://169.254.169.254/latest' });
    expect((await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: metadata } })).statusCode).toBe(403);
    const elsewhere = await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: nodeStatus({ address: '10.0.0.5' }) } });
    expect(elsewhere.statusCode).toBe(403);
    const good = await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: nodeStatus({ address: '10.0.0.1', agentUrl: 'http://10.0.0.1:7071' }) } });
    expect(good.statusCode).toBe(200);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.hostIP).toBeUndefined();
  });

  it('answers 409 when a status would bring a Lost instance back to life', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: { phase: 'Lost', ready: false, containers: [] } }));
    const url = '/api/v1/namespaces/default/instances/web-aaaaa/status';
    const res = await h.call({ method: 'PUT', url, token: await h.node('n1'), payload: { status: aRunningStatus() } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'CONFLICT', message: 'instance web-aaaaa is Lost; it will be replaced' });
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).toBe('Lost');
  });

  it('lets an agent write node status, but not an admin', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
    const url = '/api/v1/nodes/n1/status';
    expect((await h.call({ method: 'PUT', url, payload: { status: nodeStatus() } })).statusCode).toBe(403);
    const res = await h.call({ method: 'PUT', url, token: await h.node('n1'), payload: { status: nodeStatus() } });
    expect(res.statusCode).toBe(200);
    expect(res.json<GantryNode>().status?.capacity.cpu).toBe(4000);
  });

  it('keeps node status when the agent registers the node again', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
    // Joined at the address aNode has; it may set labels under agent.gantry.io/ only.
    const agent = await h.node('n1', '127.0.0.1', 7071);
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: agent, payload: { status: nodeStatus({ agentUrl: 'http://127.0.0.1:7071' }) } });
    const res = await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1', { labels: { 'agent.gantry.io/zone': 'a' } }), token: agent });
    expect(res.headers['x-gantry-result']).toBe('configured');
    expect(res.json<GantryNode>().status?.driver).toBe('fake');
  });
});

describe('batched instance status', () => {
  it('writes all reports in one transaction and skips gone instances', async () => {
    h = await startHarness();
    const agent = await h.node('n1');
    await h.store.create(anInstance('web-aaaaa', { node: 'n1' }));
    await h.store.create(anInstance('web-bbbbb', { node: 'n1' }));
    const before = await h.store.currentRevision();
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/status/instances',
      token: agent,
      payload: {
        items: [
          { namespace: 'default', name: 'web-aaaaa', status: aRunningStatus('a') },
          { namespace: 'default', name: 'gone-zzzzz', status: aRunningStatus('z') },
          { namespace: 'default', name: 'web-bbbbb', status: aRunningStatus('b') },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const { results } = res.json<{ results: { name: string; ok: boolean; error?: { code: string } }[] }>();
    expect(results.map((r) => [r.name, r.ok, r.error?.code])).toEqual([
      ['web-aaaaa', true, undefined],
      ['gone-zzzzz', false, 'NOT_FOUND'],
      ['web-bbbbb', true, undefined],
    ]);
    expect(await h.store.currentRevision()).toBe(before + 1); // one transaction, one revision
    expect((await h.store.get('Instance', 'default', 'web-bbbbb'))?.status?.containers[0]?.containerId).toBe('b');
  });

  it('writes nothing for an unchanged status, and reports an invalid one per item', async () => {
    h = await startHarness();
    const agent = await h.node('n1');
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: aRunningStatus('a') }));
    const before = await h.store.currentRevision();
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/status/instances',
      token: agent,
      payload: {
        items: [
          { namespace: 'default', name: 'web-aaaaa', status: aRunningStatus('a') },
          { namespace: 'default', name: 'web-aaaaa', status: { phase: 'Nope' } },
        ],
      },
    });
    const { results } = res.json<{ results: { ok: boolean; error?: { code: string } }[] }>();
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(results[1]?.error?.code).toBe('INVALID');
    expect(await h.store.currentRevision()).toBe(before);
  });

  it('writes nothing for a report that differs only in when it was sent (updatedAt)', async () => {
    h = await startHarness();
    const agent = await h.node('n1');
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: { ...aRunningStatus('a'), updatedAt: '2026-01-01T00:00:00.000Z' } }));
    const before = await h.store.currentRevision();
    const report = (status: object) => h.call({ method: 'POST', url: '/api/v1/status/instances', token: agent, payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status }] } });
    expect((await report({ ...aRunningStatus('a'), updatedAt: '2026-01-01T00:05:00.000Z' })).statusCode).toBe(200);
    const single = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/instances/web-aaaaa/status', token: agent, payload: { status: { ...aRunningStatus('a'), updatedAt: '2026-01-01T00:06:00.000Z' } } });
    expect(single.statusCode).toBe(200);
    expect(await h.store.currentRevision()).toBe(before);
    // Something a reader cares about (readiness) is written, with its new stamp.
    await report({ ...aRunningStatus('a'), ready: false, updatedAt: '2026-01-01T00:07:00.000Z' });
    expect(await h.store.currentRevision()).toBe(before + 1);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status).toMatchObject({ ready: false, updatedAt: '2026-01-01T00:07:00.000Z' });
  });

  it('refuses to bring a Lost instance back to life, item by item', async () => {
    h = await startHarness();
    const lost = { ...aRunningStatus('a'), phase: 'Lost' as const, ready: false, reason: 'NodeLost' };
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: lost }));
    await h.store.create(anInstance('web-bbbbb', { node: 'n1' }));
    await h.store.create(anInstance('web-ccccc', { node: 'n1', status: { ...lost, phase: 'Failed' } }));
    const res = await h.call({
      method: 'POST',
      url: '/api/v1/status/instances',
      token: await h.node('n1'),
      payload: {
        items: [
          { namespace: 'default', name: 'web-aaaaa', status: aRunningStatus('a') },
          { namespace: 'default', name: 'web-bbbbb', status: aRunningStatus('b') },
          { namespace: 'default', name: 'web-ccccc', status: { phase: 'Starting', ready: false, containers: [] } },
        ],
      },
    });
    const { results } = res.json<{ results: { name: string; ok: boolean; error?: { code: string; message: string } }[] }>();
    expect(results.map((r) => [r.name, r.ok, r.error])).toEqual([
      ['web-aaaaa', false, { code: 'CONFLICT', message: 'instance web-aaaaa is Lost; it will be replaced' }],
      ['web-bbbbb', true, undefined],
      ['web-ccccc', false, { code: 'CONFLICT', message: 'instance web-ccccc is Failed; it will be replaced' }],
    ]);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).toBe('Lost');
    expect((await h.store.get('Instance', 'default', 'web-bbbbb'))?.status?.phase).toBe('Running');
  });

  it('still lets a finished instance move to another finished phase', async () => {
    h = await startHarness();
    await h.store.create(anInstance('web-aaaaa', { node: 'n1', status: { phase: 'Lost', ready: false, containers: [] } }));
    const failed = { phase: 'Failed' as const, ready: false, containers: [], reason: 'ContainerFailed' };
    const res = await h.call({ method: 'POST', url: '/api/v1/status/instances', token: await h.node('n1'), payload: { items: [{ namespace: 'default', name: 'web-aaaaa', status: failed }] } });
    expect(res.json<{ results: { ok: boolean }[] }>().results[0]?.ok).toBe(true);
    expect((await h.store.get('Instance', 'default', 'web-aaaaa'))?.status?.phase).toBe('Failed');
  });

  it('is for agents only', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/status/instances', payload: { items: [] } });
    expect(res.statusCode).toBe(403);
  });

  it('handles a thousand reports in one request', async () => {
    h = await startHarness();
    const ops = Array.from({ length: 1000 }, (_, i) => ({ op: 'create' as const, object: anInstance(`web-${String(i).padStart(5, '0')}`, { node: 'n1' }) }));
    await h.store.txn(ops);
    const items = ops.map((o) => ({ namespace: 'default', name: o.object.metadata.name, status: aRunningStatus(o.object.metadata.name) }));
    const res = await h.call({ method: 'POST', url: '/api/v1/status/instances', token: await h.node('n1'), payload: { items } });
    expect(res.json<{ results: { ok: boolean }[] }>().results.every((r) => r.ok)).toBe(true);
    const listed = await h.store.list('Instance');
    expect(listed.items.filter((i: Instance) => i.status?.phase === 'Running')).toHaveLength(1000);
  });
});

describe('heartbeat', () => {
  it('answers 404 for a node that is not registered', async () => {
    h = await startHarness();
    const res = await h.call({ method: 'POST', url: '/api/v1/nodes/n9/heartbeat', token: await h.node('n9') });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toMatch(/not registered/);
  });

  it('marks the node ready and stamps lastHeartbeat', async () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    h = await startHarness({ now: () => now });
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: nodeStatus({ ready: false }) } });
    const res = await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
    expect(res.statusCode).toBe(204);
    const node = (await h.store.get('Node', undefined, 'n1'))!;
    expect(node.status).toMatchObject({ ready: true, lastHeartbeat: now.toISOString(), driver: 'fake' });
  });

  it('turns the Ready condition back to True when a lost node heartbeats again', async () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    h = await startHarness({ now: () => now });
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1', payload: aNode('n1') });
    const lost = { type: 'Ready', status: 'False' as const, reason: 'NodeLost', message: 'node n1 stopped sending heartbeats', lastTransitionTime: '2030-01-01T00:00:00.000Z' };
    const other = { type: 'DiskPressure', status: 'False' as const };
    await h.call({ method: 'PUT', url: '/api/v1/nodes/n1/status', token: await h.node('n1'), payload: { status: nodeStatus({ ready: false, conditions: [other, lost] }) } });
    await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
    const node = (await h.store.get('Node', undefined, 'n1'))!;
    expect(node.status?.ready).toBe(true);
    expect(node.status?.conditions).toEqual([
      other,
      { type: 'Ready', status: 'True', reason: 'NodeHeartbeating', message: 'node n1 is sending heartbeats', lastTransitionTime: now.toISOString() },
    ]);
    // Later heartbeats leave the condition (and its transition time) alone.
    const before = node.metadata.revision;
    now.setTime(now.getTime() + 5000);
    await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat', token: await h.node('n1') });
    const again = (await h.store.get('Node', undefined, 'n1'))!;
    expect(again.metadata.revision).toBeGreaterThan(before);
    expect(again.status?.conditions).toEqual(node.status?.conditions);
  });

  it('is for agents only', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'POST', url: '/api/v1/nodes/n1/heartbeat' })).statusCode).toBe(403);
  });
});
