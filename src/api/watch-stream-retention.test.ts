// A long watch must not keep what it has already sent: memory per stream stays flat however many
// events pass through it. Checked with a WeakRef on a sent event and a forced garbage collection.
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { ClientWatchEvent } from '../client/types.js';
import type { AnyObject } from '../core/index.js';
import type { Store, WatchEvent, WatchOptions } from '../store/store.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { ADMIN, startHarness, type Harness } from './test-helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let h: Harness;
let real: SqliteStore;
afterEach(async () => {
  await h.close();
  await real.close();
});

/** A store whose watch sends `count` events, each tracked by a WeakRef, then stays idle until aborted. */
function storeWithTrackedWatch(base: Store, count: number, sent: WeakRef<AnyObject>[]): Store {
  async function* events(signal: AbortSignal): AsyncGenerator<WatchEvent> {
    for (let i = 1; i <= count; i++) {
      const object = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'default' }, spec: { pad: 'x'.repeat(1000) } } as unknown as AnyObject;
      sent.push(new WeakRef(object));
      yield { type: 'ADDED', revision: 100 + i, object };
    }
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  // Services only: the API's own token mirror watches Tokens through the same store.
  const watch = (opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> => (opts.kind === 'Service' ? events(signal) : base.watch(opts, signal));
  return new Proxy(base, {
    get: (target, prop): unknown => (prop === 'watch' ? watch : Reflect.get(target, prop, target)),
  });
}

describe('watch stream memory', () => {
  it('lets go of every event it has sent while the stream stays open', async () => {
    const sent: WeakRef<AnyObject>[] = [];
    real = openSqliteStore(':memory:');
    h = await startHarness({ store: storeWithTrackedWatch(real, 50, sent) });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const client = createHttpClient({ server: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, token: ADMIN });
    const ac = new AbortController();
    const got: ClientWatchEvent[] = [];
    for await (const ev of client.watch({ kind: 'Service', fromRevision: 100 }, ac.signal)) {
      got.push(ev);
      if (got.length === 50) break;
    }
    // The stream is open and idle now, waiting for a 51st event.
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const kept = sent.filter((r) => r.deref() !== undefined).length;
    ac.abort();
    expect(got.at(-1)?.revision).toBe(150);
    // The one in flight may be held by the pending read; the other 49 must be collectable.
    expect(kept).toBeLessThanOrEqual(1);
  });
});
