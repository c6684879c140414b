// Limits per credential: the request rate (429 + Retry-After), open watches, the object size cap,
// and the client waiting out a 429.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import { InvalidError, type Principal, type RateLimitedError } from '../core/index.js';
import { DEFAULT_LIMITS, RequestLimiter, type Limits } from './limits.js';
import { aNodeToken, aUserToken, startHarness, type Harness } from './test-helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const tight: Limits = { rate: { ...DEFAULT_LIMITS.rate, user: { perSecond: 1, burst: 3 } }, watches: { ...DEFAULT_LIMITS.watches, user: 1 } };
const alice: Principal = { kind: 'user', name: 'alice', role: 'view', namespaces: '*', tokenId: 'aaaaaaaaaa' };

describe('request limits', () => {
  it('answers 429 with Retry-After past a credential\'s burst, and refills with time', () => {
    let now = 0;
    const limiter = new RequestLimiter(tight, () => now);
    for (let i = 0; i < 3; i++) limiter.take(alice);
    expect(() => limiter.take(alice)).toThrow(/user alice \(view in every namespace\) sends more than 1 requests a second \(burst 3\); retry after 1 s/);
    now += 1000;
    expect(() => limiter.take(alice)).not.toThrow();
    // Another credential has its own bucket; every node's credential too (there is no shared one).
    expect(() => limiter.take({ ...alice, tokenId: 'bbbbbbbbbb' })).not.toThrow();
    const n1: Principal = { kind: 'node', name: 'n1', tokenId: 'n1aaaaaaaa', address: '10.0.0.1', agentPort: 7071 };
    for (let i = 0; i < DEFAULT_LIMITS.rate.node.burst; i++) limiter.take(n1);
    expect(() => limiter.take(n1)).toThrow(/node n1 sends more than 20 requests a second/);
    expect(() => limiter.take({ ...n1, name: 'n2', tokenId: 'n2aaaaaaaa' })).not.toThrow();
  });

  it('counts open watches per credential and lets one go when released', () => {
    const limiter = new RequestLimiter(tight);
    const release = limiter.openWatch(alice);
    expect(() => limiter.openWatch(alice)).toThrow(/has 1 watches open/);
    release();
    release(); // twice is once
    expect(limiter.watchesOf(alice)).toBe(0);
    expect(() => limiter.openWatch(alice)()).not.toThrow();
  });

  it('refuses over the API with 429 and a Retry-After header', async () => {
    h = await startHarness({ limits: tight });
    const token = await aUserToken(h, 'alice', 'view');
    let res;
    for (let i = 0; i < 10; i++) {
      res = await h.call({ method: 'GET', url: '/api/v1/namespaces', token });
      if (res.statusCode === 429) break;
    }
    expect(res?.statusCode).toBe(429);
    expect(res?.headers['retry-after']).toBe('1');
    expect(res?.json<{ error: { code: string } }>().error.code).toBe('RATE_LIMITED');
    // Another credential is not held back by alice's bucket.
    const other = await aUserToken(h, 'bob', 'view');
    expect((await h.call({ method: 'GET', url: '/api/v1/namespaces', token: other })).statusCode).toBe(200);
  });

  it("counts a node's events per credential, all of a batch or none, and refills with time", () => {
    let now = 0;
    const limiter = new RequestLimiter({ ...DEFAULT_LIMITS, nodeEvents: { perSecond: 10, burst: 50 } }, () => now);
    const n1: Principal = { kind: 'node', name: 'n1', tokenId: 'n1aaaaaaaa', address: '10.0.0.1', agentPort: 7071 };
    limiter.takeEvents(n1, 40);
    expect(() => limiter.takeEvents(n1, 20)).toThrow(/node n1 records more than 10 events a second \(burst 50\); this batch of 20 was not recorded; retry after 1 s/);
    // The refused batch took nothing: the 10 left are still there.
    limiter.takeEvents(n1, 10);
    try {
      limiter.takeEvents(n1, 30);
      expect.unreachable();
    } catch (e) {
      expect((e as RateLimitedError).retryAfterSeconds).toBe(3);
    }
    now += 3000;
    expect(() => limiter.takeEvents(n1, 30)).not.toThrow();
    // Another node has its own bucket; a batch larger than the burst could never pass: 422, not 429.
    expect(() => limiter.takeEvents({ ...n1, name: 'n2', tokenId: 'n2aaaaaaaa' }, 50)).not.toThrow();
    expect(() => limiter.takeEvents({ ...n1, name: 'n2', tokenId: 'n2aaaaaaaa' }, 51)).toThrow(InvalidError);
    // Events are not requests: the request bucket of n1 is untouched.
    for (let i = 0; i < DEFAULT_LIMITS.rate.node.burst; i++) limiter.take(n1);
  });

  it("refuses a node's event flood over the API with 429 and Retry-After, recording none of the batch, and the agent's client waits it out", async () => {
    h = await startHarness({ limits: { ...DEFAULT_LIMITS, nodeEvents: { perSecond: 5, burst: 10 } } });
    const token = await aNodeToken(h, 'n1');
    const item = (i: number) => ({ involved: { kind: 'Node', name: 'n1' }, type: 'Normal', reason: 'Flood', message: `event ${i}` });
    const batch = (from: number, n: number) => ({ items: Array.from({ length: n }, (_, i) => item(from + i)) });
    expect((await h.call({ method: 'POST', url: '/api/v1/events', token, payload: batch(0, 8) })).statusCode).toBe(200);
    const refused = await h.call({ method: 'POST', url: '/api/v1/events', token, payload: batch(8, 8) });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json<{ error: { code: string; message: string } }>().error.message).toMatch(/node n1 records more than 5 events a second \(burst 10\)/);
    expect((await h.store.list('Event')).items).toHaveLength(8);
    // The agents' client honours Retry-After: the same batch goes through after the wait.
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const client = createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token });
    const t0 = Date.now();
    await client.recordEvents(batch(8, 8).items as never, 'agent/n1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await h.store.list('Event')).items).toHaveLength(16);
    client.close?.();
  });

  it('refuses an object over 1 MiB, Config data included, naming the field and the limit', async () => {
    h = await startHarness();
    const config = { apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: 'big', namespace: 'default' }, spec: { data: { small: 'x', 'blob.bin': 'y'.repeat(1_100_000) } } };
    const res = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/configs/big', payload: config });
    expect(res.statusCode).toBe(422);
    const body = res.json<{ error: { message: string; details: { path: string; message: string }[] } }>();
    expect(body.error.message).toBe('the Config is larger than one object may be (1 MiB)');
    expect(body.error.details).toEqual([{ path: 'spec.data.blob.bin', message: 'holds 1.05 MiB; an object may take at most 1 MiB in all (this one takes 1.05 MiB)' }]);
    config.spec.data['blob.bin'] = 'y'.repeat(1_000_000);
    expect((await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/configs/big', payload: config })).statusCode).toBe(201);
  });
});

describe('the client and 429', () => {
  it('waits out Retry-After and retries, a bounded number of times', async () => {
    let calls = 0;
    let refuse = 2;
    const server = http.createServer((_req, res) => {
      calls++;
      if (refuse-- > 0) {
        res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: '1', apiVersion: 'gantry/v1', revision: 3, clusterId: 'c' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = createHttpClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
      expect((await client.version()).revision).toBe(3);
      expect(calls).toBe(3);
      refuse = 10;
      calls = 0;
      await expect(client.version()).rejects.toThrow('slow down');
      expect(calls).toBe(4); // the first try and 3 retries
      client.close();
    } finally {
      server.close();
    }
  });
});
