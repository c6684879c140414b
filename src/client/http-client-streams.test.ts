// Watches and logs over a stand-in server that controls exactly when it writes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../core/index.js';
import { Informer } from '../runtime/informer.js';
import { createHttpClient } from './http-client.js';
import { HttpTransport } from './http-transport.js';
import type { StreamResponse } from './stream-get.js';
import { shortenFetchBodyTimeout } from './test-helpers.js';
import type { ClientWatchEvent } from './types.js';

let server: http.Server | undefined;
let restoreFetch: (() => Promise<void>) | undefined;
afterEach(async () => {
  await restoreFetch?.();
  restoreFetch = undefined;
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('followed logs', () => {
  it('survive a quiet spell longer than fetch would allow between body chunks', async () => {
    restoreFetch = await shortenFetchBodyTimeout(150);
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('before\n');
      // A container with nothing to say for a while (undici checks its timers about once a second).
      setTimeout(() => res.end('after\n'), 1600);
    });
    let text = '';
    for await (const chunk of createHttpClient({ server: url, token: 't' }).logs('default', 'web-aaaaa', { follow: true })) text += chunk;
    expect(text).toBe('before\nafter\n');
  });

  it('passes the server error on as an AppError', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'instance web-aaaaa not found' } }));
    });
    const err = await (async () => {
      for await (const _ of createHttpClient({ server: url, token: 't' }).logs('default', 'web-aaaaa', {})) void _;
    })().catch((e: unknown) => e);
    expect(isAppError(err, 'NOT_FOUND')).toBe(true);
    expect((err as AppError).message).toBe('instance web-aaaaa not found');
  });
});

describe('watch idle timeout', () => {
  it('ends a watch that stops sending, bookmarks included, with UNAVAILABLE', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'BOOKMARK', revision: 5 })}\n`);
      // ...and then nothing, as over a half-open connection.
    });
    const client = createHttpClient({ server: url, token: 't', watchIdleTimeoutMs: 200 });
    const seen: ClientWatchEvent[] = [];
    const started = Date.now();
    const err = await (async () => {
      for await (const ev of client.watch({ kind: 'Service' }, new AbortController().signal)) seen.push(ev);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ type: 'BOOKMARK', revision: 5 }]);
    expect(isAppError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as AppError).message).toMatch(/received nothing for 200 ms, not even a bookmark/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not count the wait for a turn to set the connection up in (a transport pacing its streams)', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`${JSON.stringify({ type: 'BOOKMARK', revision: 5 })}\n`);
    });
    // A transport whose streams wait longer than the idle timeout before they are set up.
    class SlowToSetUp extends HttpTransport {
      override async stream(u: URL, headers: Record<string, string>, signal: AbortSignal, onAttempt?: () => void): Promise<StreamResponse> {
        await sleep(400);
        return super.stream(u, headers, signal, onAttempt);
      }
    }
    const transport = new SlowToSetUp();
    const client = createHttpClient({ server: url, token: 't', watchIdleTimeoutMs: 200, transport });
    const seen: number[] = [];
    for await (const ev of client.watch({ kind: 'Service' }, new AbortController().signal)) seen.push(ev.revision);
    expect(seen).toEqual([5]);
    transport.close();
  });

  it('does not count a Retry-After wait nor the next attempt\'s wait for a turn', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      if (calls++ === 0) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ error: { code: 'TOO_MANY_REQUESTS', message: 'too many watches' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`${JSON.stringify({ type: 'BOOKMARK', revision: 7 })}\n`);
    });
    // The second attempt waits longer than the idle timeout before it is set up.
    let streams = 0;
    class SecondSlow extends HttpTransport {
      override async stream(u: URL, headers: Record<string, string>, signal: AbortSignal, onAttempt?: () => void): Promise<StreamResponse> {
        if (streams++ === 1) await sleep(400);
        return super.stream(u, headers, signal, onAttempt);
      }
    }
    const transport = new SecondSlow();
    const client = createHttpClient({ server: url, token: 't', watchIdleTimeoutMs: 200, transport });
    const seen: number[] = [];
    for await (const ev of client.watch({ kind: 'Service' }, new AbortController().signal)) seen.push(ev.revision);
    expect(seen).toEqual([7]);
    expect(calls).toBe(2);
    transport.close();
  });

  it('does not count the time the consumer spends on an event', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'BOOKMARK', revision: 5 })}\n`);
      setTimeout(() => res.end(`${JSON.stringify({ type: 'BOOKMARK', revision: 6 })}\n`), 500);
    });
    const client = createHttpClient({ server: url, token: 't', watchIdleTimeoutMs: 300 });
    const seen: number[] = [];
    for await (const ev of client.watch({ kind: 'Service' }, new AbortController().signal)) {
      seen.push(ev.revision);
      if (ev.revision === 5) await sleep(400); // slow handler; the server's next line comes 100 ms later
    }
    expect(seen).toEqual([5, 6]);
  });

  it('lets the runtime Informer reconnect from the last revision after a stall', async () => {
    const requests: string[] = [];
    const url = await serve((req, res) => {
      requests.push(req.url ?? '');
      if (!(req.url ?? '').includes('watch=1')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'gantry/v1', kind: 'List', items: [], metadata: { revision: 3 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'BOOKMARK', revision: requests.length === 2 ? 9 : 10 })}\n`); // then silence
    });
    const client = createHttpClient({ server: url, token: 't', watchIdleTimeoutMs: 150 });
    const ac = new AbortController();
    const loop = new Informer({ source: client, kind: 'Service', retryDelayMs: 10 }).run(ac.signal);
    const deadline = Date.now() + 3000;
    while (requests.length < 3 && Date.now() < deadline) await sleep(20);
    ac.abort();
    await loop;
    expect(requests.slice(0, 3)).toEqual(['/api/v1/services', '/api/v1/services?watch=1&revision=3', '/api/v1/services?watch=1&revision=9']);
  });
});
