import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../test/support/prom-text.js';
import { aService } from '../core/test-builders.js';
import { clusterCounts, instrumentStore } from '../runtime/instrumented-store.js';
import { ServerMetrics } from '../runtime/metrics.js';
import { aUserToken, startHarness, type Harness } from './test-helpers.js';

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
  });

  it('counts nodes by condition and instances by phase at scrape time', async () => {
    h = await startHarness();
    const { store } = h;
    await store.create({ apiVersion: 'gantry/v1', kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true }, status: { ready: true, capacity: { cpu: 1000, memory: 1 }, driver: 'fake', conditions: [{ type: 'DockerReachable', status: 'True', lastTransitionTime: new Date().toISOString() }] } } as never);
    const c = await clusterCounts(store);
    expect(c.nodes).toEqual(
      expect.arrayContaining([
        { condition: 'Ready', status: 'True', count: 1 },
        { condition: 'Unschedulable', status: 'True', count: 1 },
        { condition: 'DockerReachable', status: 'True', count: 1 },
      ]),
    );
  });

  it('is refused without a token or with a wrong one', async () => {
    h = await startHarness();
    expect((await h.call({ method: 'GET', url: '/metrics', token: null })).statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url: '/metrics', token: 'wrong' })).statusCode).toBe(401);
    expect((await h.call({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
