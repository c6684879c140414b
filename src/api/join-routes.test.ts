// Joins and revokes against a real app and store (the CA is a stand-in: joins only pass it on).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { JoinAnswer } from '../core/index.js';
import type { JoinDeps } from './join-routes.js';
import { startHarness, type Harness } from './test-helpers.js';

const FP = 'ab'.repeat(32);
const join: JoinDeps = {
  caPem: '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n',
  caFingerprint: FP,
  issueServingCertificate: async (node, address) => ({ certPem: `cert of ${node} at ${address}`, keyPem: 'key' }),
  endpointToken: (node) => `endpoint-${node}`,
};

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function joinToken(uses = 1): Promise<string> {
  const res = await h.call({ method: 'POST', url: '/api/v1/auth/join-tokens', payload: { uses } });
  expect(res.statusCode).toBe(201);
  return res.json<{ token: string }>().token;
}

const joinAs = (token: string, node: string, address = '10.0.0.1') =>
  h.call({ method: 'POST', url: '/api/v1/join', token: null, payload: { token, node, address, agentPort: 7071, labels: { rack: 'r1' } } });

describe('join', () => {
  it('makes join tokens that carry the CA fingerprint, and a join gives a node credential bound to its name, address and port', async () => {
    h = await startHarness({ join });
    const token = await joinToken(2);
    expect(token).toMatch(new RegExp(`^GTJ-1-${FP}-[a-z0-9]{10}_[0-9a-f]{64}$`));
    const res = await joinAs(token, 'node-a');
    expect(res.statusCode).toBe(201);
    const answer = res.json<JoinAnswer>();
    expect(answer).toMatchObject({ node: 'node-a', caPem: join.caPem, endpointToken: 'endpoint-node-a', certPem: 'cert of node-a at 10.0.0.1' });
    expect(answer.credential).toMatch(/^gtn_[a-z0-9]{10}_[0-9a-f]{64}$/);
    const node = await h.store.get('Node', undefined, 'node-a');
    expect(node?.spec).toMatchObject({ address: '10.0.0.1', agentPort: 7071 });
    expect(node?.metadata.labels).toEqual({ rack: 'r1' });
    const whoami = await h.call({ method: 'GET', url: '/api/v1/nodes/node-a', token: answer.credential });
    expect(whoami.statusCode).toBe(200);
    // One host per name: the second use of the token cannot take node-a over.
    const again = await joinAs(token, 'node-a', '10.0.0.9');
    expect(again.statusCode).toBe(409);
    expect(again.json<{ error: { message: string } }>().error.message).toMatch(/gantry node revoke node-a/);
    expect((await joinAs(token, 'node-b')).statusCode).toBe(201);
    const spent = await joinAs(token, 'node-c');
    expect(spent.statusCode).toBe(401);
    expect(spent.json<{ error: { message: string } }>().error.message).toMatch(/used up/);
  });

  it('refuses a join token made for another CA, saying the fingerprint differs, and a made-up one', async () => {
    h = await startHarness({ join });
    const token = await joinToken();
    const other = token.replace(FP, 'cd'.repeat(32));
    const res = await joinAs(other, 'node-a');
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/fingerprint differs/);
    expect((await joinAs(token.replace(/_[0-9a-f]{64}$/, `_${'0'.repeat(64)}`), 'node-a')).statusCode).toBe(401);
    expect((await h.store.get('Node', undefined, 'node-a'))).toBeUndefined();
  });

  it('serves the CA to anyone, and join tokens only to admins', async () => {
    h = await startHarness({ join });
    const ca = await h.call({ method: 'GET', url: '/api/v1/cluster/ca', token: null });
    expect(ca.body).toBe(join.caPem);
    const token = await joinToken();
    const answer = (await joinAs(token, 'node-a')).json<JoinAnswer>();
    expect((await h.call({ method: 'POST', url: '/api/v1/auth/join-tokens', token: answer.credential, payload: {} })).statusCode).toBe(403);
    expect((await h.call({ method: 'POST', url: '/api/v1/nodes/node-a/revoke', token: answer.credential, payload: {} })).statusCode).toBe(403);
  });
});

describe('node revoke', () => {
  it('refuses the credential at once and closes its open watch and keep-alive connections', async () => {
    h = await startHarness({ join });
    const answer = (await joinAs(await joinToken(), 'node-a')).json<JoinAnswer>();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    try {
      // A watch held open by the node, and a keep-alive connection it used.
      const watchEnded = new Promise<number>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/instances?watch=1', headers: { authorization: `Bearer ${answer.credential}` } }, (res) => {
          res.resume();
          res.on('error', () => undefined); // cut by the revoke: that is the point
          res.on('close', () => resolve(Date.now()));
        });
        req.on('error', () => resolve(Date.now()));
      });
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/api/v1/version', agent, headers: { authorization: `Bearer ${answer.credential}` } }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const res = await h.call({ method: 'POST', url: '/api/v1/nodes/node-a/revoke', payload: {} });
      expect(res.statusCode).toBe(200);
      const result = res.json<{ revoked: string[]; closed: number }>();
      expect(result.revoked).toHaveLength(1);
      expect(result.closed).toBeGreaterThanOrEqual(2); // the watch, and the connections the node used
      expect((await watchEnded) - t0).toBeLessThan(1000);
      const refused = await h.call({ method: 'GET', url: '/api/v1/nodes/node-a', token: answer.credential });
      expect(refused.statusCode).toBe(401);
      expect(refused.json<{ error: { message: string } }>().error.message).toMatch(/revoked/);
      // Revoked: the name is free for a new host.
      expect((await joinAs(await joinToken(), 'node-a', '10.0.0.2')).statusCode).toBe(201);
    } finally {
      agent.destroy();
    }
  });
});
