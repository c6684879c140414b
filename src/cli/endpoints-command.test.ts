// `gantry endpoints` against a fake client: the table, the empty case, and -w's change lines.
import { describe, expect, it } from 'vitest';
import type { Endpoint, EndpointSet, EndpointWatchEvent } from '../client/types.js';
import { NotFoundError } from '../core/index.js';
import { runCli } from './run-cli.js';
import { fakeClient, testContext } from './test-helpers.js';

const token = { GANTRY_TOKEN: 't0k3n' };

function anEndpoint(instance: string, hostPort: number): Endpoint {
  return { namespace: 'default', service: 'web', instance, node: 'vm', address: '127.0.0.1', port: 'http', hostPort, containerPort: 8080, protocol: 'tcp', health: 'passing' };
}
const setOf = (...endpoints: Endpoint[]): EndpointSet => ({ namespace: 'default', service: 'web', revision: 9, endpoints });

describe('gantry endpoints', () => {
  it('prints one row per endpoint', async () => {
    const ctx = testContext({ env: token, client: fakeClient({ endpoints: async () => setOf(anEndpoint('web-a', 20001), anEndpoint('web-b', 20002)) }) });
    expect(await runCli(ctx, ['endpoints', 'web'])).toBe(0);
    expect(ctx.out).toBe(
      [
        'INSTANCE   NODE   ADDRESS     PORT              HOST-PORT   HEALTH',
        'web-a      vm     127.0.0.1   http (8080/tcp)   20001       passing',
        'web-b      vm     127.0.0.1   http (8080/tcp)   20002       passing',
        '',
      ].join('\n'),
    );
  });

  it('says so when a service has no ready endpoints, and names an unknown service', async () => {
    const empty = testContext({ env: token, client: fakeClient({ endpoints: async () => setOf() }) });
    expect(await runCli(empty, ['endpoints', 'web'])).toBe(0);
    expect(empty.out).toBe('service default/web has no ready endpoints\n');
    const missing = testContext({ env: token, client: fakeClient({ endpoints: () => Promise.reject(new NotFoundError('Service', 'default', 'nope')) }) });
    expect(await runCli(missing, ['endpoints', 'nope'])).toBe(1);
    expect(missing.err).toContain('nope');
  });

  it('-w prints the table, then endpoints that come and go', async () => {
    const events: EndpointWatchEvent[] = [
      { type: 'ADDED', revision: 1, object: setOf(anEndpoint('web-a', 20001)) },
      { type: 'BOOKMARK', revision: 2 },
      { type: 'MODIFIED', revision: 3, object: setOf(anEndpoint('web-a', 20001), anEndpoint('web-b', 20002)) },
      { type: 'MODIFIED', revision: 4, object: setOf(anEndpoint('web-b', 20002)) },
    ];
    const client = fakeClient({
      endpoints: async () => setOf(anEndpoint('web-a', 20001)),
      watchEndpoints: async function* () {
        yield* events;
      },
    });
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['endpoints', 'web', '-w'])).toBe(0);
    const lines = ctx.out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^web-a .* 20001 +passing$/);
    expect(lines[2]).toMatch(/^web-b .* 20002 +passing$/);
    expect(lines[3]).toMatch(/^web-a .* 20001 +removed$/);
  });
});
