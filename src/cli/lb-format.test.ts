import { describe, expect, it } from 'vitest';
import type { LoadBalancerStatus } from '../client/index.js';
import { formatLbSection } from './lb-format.js';

const status: LoadBalancerStatus = {
  kind: 'LoadBalancerStatus',
  namespace: 'default',
  service: 'web',
  enabled: true,
  lastReload: { result: 'failed', at: '2026-12-02T01:00:00.000Z', message: 'cannot bind socket' },
  entries: [
    { port: 'http', mode: 'http', servicePort: 18080, frontends: ['127.0.0.1:18080'], state: 'Serving', servers: [{ slot: 2, instance: 'web-a', address: '127.0.0.1', port: 20001, state: 'UP' }] },
    { port: 'http', mode: 'http', servicePort: 18081, frontends: ['127.0.0.1:18081'], state: 'Failed', message: 'cannot bind socket', servers: [] },
  ],
};

describe('formatLbSection', () => {
  it('shows the last reload, each frontend with its state, and the servers in their slots', () => {
    const text = formatLbSection(status);
    expect(text.split('\n')[0]).toBe('Load balancer:  HAProxy');
    expect(text).toContain('  last reload: failed at 2026-12-02T01:00:00.000Z: cannot bind socket');
    expect(text).toMatch(/127\.0\.0\.1:18080 +http +http +Serving +1\/1/);
    expect(text).toMatch(/127\.0\.0\.1:18081 +http +http +Failed +0\/0 +cannot bind socket/);
    expect(text).toMatch(/127\.0\.0\.1:18080 +slot2 +web-a +127\.0\.0\.1:20001 +UP/);
  });

  it('says nothing for a service that exposes nothing, and "off" without a load balancer', () => {
    expect(formatLbSection({ ...status, entries: [] })).toBe('');
    expect(formatLbSection({ ...status, enabled: false, message: 'no load balancer here', lastReload: undefined }).split('\n')[0]).toBe('Load balancer:  off (no load balancer here)');
  });
});
