// Limits per credential: the request rate (429 + Retry-After), open watches, the object size cap,
// and the client waiting out a 429.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { Principal } from '../core/index.js';
import { DEFAULT_LIMITS, RequestLimiter, type Limits } from './limits.js';
import { AGENT, aUserToken, startHarness, type Harness } from './test-helpers.js';

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
    // Another credential has its own bucket; the shared agent token is not limited.
    expect(() => limiter.take({ ...alice, tokenId: 'bbbbbbbbbb' })).not.toThrow();
    const anyNode: Principal = { kind: 'node', name: '*', tokenId: 'agent', address: '', agentPort: 0 };
    for (let i = 0; i < 10_000; i++) limiter.take(anyNode);
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
    // The agent token is not held back.
    for (let i = 0; i < 20; i++) expect((await h.call({ method: 'GET', url: '/api/v1/namespaces', token: AGENT })).statusCode).toBe(200);
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
