import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../test/support/prom-text.js';
import { aService } from '../core/test-builders.js';
import { recordEvent } from '../runtime/event-recorder.js';
import { clusterCounts, instrumentStore } from '../runtime/instrumented-store.js';
import { ServerMetrics } from '../runtime/metrics.js';
import { NodeLeases } from '../runtime/node-leases.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { ADMIN, aUserToken, startHarness, type Harness } from './test-helpers.js';

let h: Harness | undefined;
afterEach(async () => h?.close());

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('GET /metrics', () => {
  it('answers the Prometheus text format with API, store, queue and cluster series, to the metrics role', async () => {
    const metrics = new ServerMetrics();
    h = await startHarness({ metrics });
    const store = h.store;
    metrics.countCluster(() => clusterCounts(store));
    metrics.watchQueue('service', () => 7);
    const timed = instrumentStore(store, metrics);
    await timed.create(aService('web'));
    await timed.txn([{ op: 'create', object: aService('a') }, { op: 'create', object: aService('b') }]);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/services/web' })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/services/nope' })).statusCode).toBe(404);

    const token = await aUserToken(h, 'mia', 'metrics');
    const res = await h.call({ method: 'GET', url: '/metrics', token });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(res.body);
    expect(find(samples, 'gantry_api_request_duration_seconds_count', { route: 'services.get', method: 'GET', code: '200' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_api_request_duration_seconds_count', { route: 'services.get', code: '404' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_store_write_duration_seconds_count', { op: 'create' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_store_write_duration_seconds_count', { op: 'txn' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_store_txn_operations_sum')[0]?.value).toBe(2);
    expect(find(samples, 'gantry_workqueue_depth', { controller: 'service' })[0]?.value).toBe(7);
    expect(find(samples, 'gantry_api_open_streams')[0]?.value).toBe(0);
    expect(find(samples, 'nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    expect(find(samples, 'gantry_instances')).toEqual([]);
    expect(find(samples, 'gantry_events')[0]?.value).toBe(0);
  });

  it('counts lists, watches and resumed watches by kind, and nodes heard from within the grace period', async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    // Bookmarks at once: a watch's headers go out with its first line.
    h = await startHarness({ metrics, bookmarkIntervalMs: 20 });
    const leases = new NodeLeases();
    const now = Date.now();
    leases.renew('n1', now - 1000);
    leases.renew('n2', now - 60_000);
    metrics.countFreshLeases(() => leases.countRenewedSince(Date.now() - 15_000));
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces/default/instances' })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: '/api/v1/nodes?limit=10' })).statusCode).toBe(200);
    const revision = await h.store.currentRevision();
    const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    for (const q of ['watch=1', `watch=1&revision=${revision}`]) {
      const ac = new AbortController();
      const res = await fetch(`${url}/api/v1/namespaces/default/instances?${q}`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: ac.signal });
      expect(res.status).toBe(200);
      ac.abort();
    }
    const samples = parsePrometheusText((await h.call({ method: 'GET', url: '/metrics' })).body);
    expect(find(samples, 'gantry_api_reads_total', { kind: 'Instance', how: 'list' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_api_reads_total', { kind: 'Node', how: 'list' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_api_reads_total', { kind: 'Instance', how: 'watch' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_api_reads_total', { kind: 'Instance', how: 'resume' })[0]?.value).toBe(1);
    expect(find(samples, 'gantry_node_leases_fresh')[0]?.value).toBe(1);
  });

  it('counts nodes by condition and instances by phase at scrape time', async () => {
    h = await startHarness();
    const { store } = h;
    await store.create({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true }, status: { ready: true, capacity: { cpu: 1000, memory: 1 }, driver: 'fake', conditions: [{ type: 'DockerReachable', status: 'True', lastTransitionTime: new Date().toISOString() }] } } as never);
    await recordEvent(store, { kind: 'Node', name: 'n1' }, 'Normal', 'Cordoned', 'cordoned', 'test');
    const c = await clusterCounts(store);
    expect(c.events).toBe(1);
    expect(c.nodes).toEqual(
      expect.arrayContaining([
        { condition: 'Ready', status: 'True', count: 1 },
        { condition: 'Unschedulable', status: 'True', count: 1 },
        { condition: 'DockerReachable', status: 'True', count: 1 },
      ]),
    );
  });

  it("reports the SQLite store's write queue: writes waiting now, and those that waited in all", async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false });
    const store = openSqliteStore(':memory:', { writeTurnBudgetMs: 0 });
    try {
      metrics.countStoreQueue(() => ({ waiting: store.waitingWrites, deferred: store.deferredWrites }));
      const read = async (): Promise<Sample[]> => parsePrometheusText(await metrics.registry.metrics());
      expect(find(await read(), 'gantry_store_writes_deferred_total')[0]?.value).toBe(0);
      // Called in one turn: past the first, each waits for a later turn (a budget of 0 ms).
      const writes = [aService('a'), aService('b'), aService('c')].map((s) => store.create(s));
      expect(store.waitingWrites).toBe(2);
      const during = await read();
      expect(find(during, 'gantry_store_writes_waiting')[0]?.value).toBe(2);
      await Promise.all(writes);
      const after = await read();
      expect(find(after, 'gantry_store_writes_waiting')[0]?.value).toBe(0);
      expect(find(after, 'gantry_store_writes_deferred_total')[0]?.value).toBe(2);
      expect(find(await read(), 'gantry_store_writes_deferred_total')[0]?.value).toBe(2); // a counter: not counted twice
    } finally {
      await store.close();
    }
  });

  it('is refused without a token or with a wrong one', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'GET', url: '/metrics', token: null })).statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url: '/metrics', token: 'wrong' })).statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
