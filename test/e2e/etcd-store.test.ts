// The etcd store against a real etcd (Debian's etcd-server, installed by scripts/ensure.sh),
// started here with TLS and client certificates from a cluster CA: the Store contract suite that
// SQLite passes too, then what only several servers on one etcd can show: a write on one is seen
// by the other's watch, and two servers updating from the same revision cannot both win.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { StaleRevisionError, UnavailableError, type Service } from '../../src/core/index.js';
import { aService } from '../../src/core/test-builders.js';
import { startEtcdMember, type EtcdMember } from '../../src/server/etcd-member.js';
import { ensureClusterTls, loadCertificateAuthority } from '../../src/server/tls.js';
import { openEtcdStore, type EtcdStoreOptions, type Fence } from '../../src/store/etcd-store.js';
import { EtcdLeaderLease } from '../../src/server/etcd-leader-lease.js';
import { EtcdHeartbeatPace } from '../../src/server/etcd-heartbeat-pace.js';
import { storeConformance } from '../../src/store/test-store-conformance.js';
import { readUntil, withReplicas } from '../../src/store/test-helpers.js';
import { freePort } from '../support/gantry-process.js';
import { waitFor } from '../support/wait.js';

let dir = '';
let member: EtcdMember | undefined;
let prefixes = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-test-etcd-'));
  await ensureClusterTls(join(dir, 'server'));
  const ca = await loadCertificateAuthority(join(dir, 'server'));
  member = await startEtcdMember({ name: 'm1', dir: join(dir, 'm1'), clientPort: await freePort(), peerPort: await freePort(), ca });
}, 60_000);

afterAll(async () => {
  await member?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Options for a store on the test's etcd; each call gets a prefix of its own unless given one. */
function on(prefix = `/gantry-test-${process.pid}-${++prefixes}/`): EtcdStoreOptions {
  if (!member) throw new Error('etcd did not start');
  return { endpoints: [member.clientUrl], tls: member.clientTls, prefix };
}

storeConformance('etcd', {
  open: async ({ historyLimit, now }) => openEtcdStore({ ...on(), ...(historyLimit ? { historyLimit } : {}), ...(now ? { now } : {}) }),
});

describe('etcd store: two servers on one etcd', () => {
  it('shows a write made through one server to the other’s get, list and watch', async () => {
    const opts = on();
    const a = await openEtcdStore(opts);
    const b = await openEtcdStore(opts);
    try {
      const ac = new AbortController();
      const watch = b.watch({ kind: 'Service', fromRevision: await b.currentRevision() }, ac.signal);
      const web = await a.create<Service>(aService('web'));
      const events = await readUntil(watch, web.metadata.revision);
      ac.abort();
      expect(events.map((e) => [e.type, e.object.metadata.name, e.revision])).toEqual([['ADDED', 'web', web.metadata.revision]]);
      expect(await b.get('Service', 'default', 'web')).toEqual(web);
      expect((await b.list('Service')).revision).toBeGreaterThanOrEqual(web.metadata.revision);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets exactly one of two servers updating from the same revision win; the other gets 409', async () => {
    const opts = on();
    const a = await openEtcdStore(opts);
    const b = await openEtcdStore(opts);
    try {
      const v1 = await a.create<Service>(aService('web'));
      // b has seen the create once its get returns it.
      for (let i = 0; i < 100 && !(await b.get('Service', 'default', 'web')); i++) await new Promise((r) => setTimeout(r, 20));
      const results = await Promise.allSettled([a.update(withReplicas(v1, 2)), b.update(withReplicas(v1, 3))]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(StaleRevisionError);
      const winner = (won[0] as PromiseFulfilledResult<Service>).value;
      expect((await a.get('Service', 'default', 'web'))?.spec.replicas).toBe(winner.spec.replicas);
      // The loser's store has caught up: a retry from what it now holds succeeds.
      const loser = results[0]?.status === 'rejected' ? a : b;
      const current = (await loser.get<'Service'>('Service', 'default', 'web')) as Service;
      expect(current.metadata.revision).toBe(winner.metadata.revision);
      const retried = await loser.update(withReplicas(current, 5));
      expect(retried.spec.replicas).toBe(5);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reloads what is already in etcd when a server starts, at etcd’s revision', async () => {
    const opts = on();
    const a = await openEtcdStore(opts);
    const web = await a.create<Service>(aService('web'));
    await a.close();
    const b = await openEtcdStore(opts);
    try {
      expect(await b.get('Service', 'default', 'web')).toEqual(web);
      expect(await b.currentRevision()).toBeGreaterThanOrEqual(web.metadata.revision);
    } finally {
      await b.close();
    }
  });

  it('fails clearly when etcd does not answer', async () => {
    const port = await freePort();
    const err = await openEtcdStore({ ...on(), endpoints: [`https://127.0.0.1:${port}`], connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`etcd at https://127.0.0.1:${port} did not read the objects`);
  });
});

describe('etcd leader lease', () => {
  const logger = pino({ level: 'silent' });

  it('lets one server win; a deposed leader’s fenced writes are refused, the new leader’s go through', async () => {
    const opts = on();
    const store = await openEtcdStore(opts);
    const prefix = opts.prefix as string;
    const first = new EtcdLeaderLease({ client: store.etcd, prefix, identity: 'first', logger, retryEveryMs: 100 });
    const second = new EtcdLeaderLease({ client: store.etcd, prefix, identity: 'second', logger, retryEveryMs: 100 });
    const stop = new AbortController();
    try {
      const lost = await first.acquire(stop.signal);
      expect(lost?.aborted).toBe(false);
      expect(await first.holder()).toBe('first');
      const oldFence = first.fence();
      expect(oldFence?.createRevision).toBeGreaterThan(0);
      const deposed = store.fenced(oldFence as Fence);
      await deposed.create<Service>(aService('by-first'));
      // The second waits while the first holds the lease.
      const campaign = second.acquire(stop.signal);
      await new Promise((r) => setTimeout(r, 300));
      expect(await first.holder()).toBe('first');
      // The first's lease goes (as when etcd expires it) without the first noticing: it still has its fence.
      await store.etcd.leaseClient.leaseRevoke({ ID: (await store.etcd.kv.range({ key: Buffer.from(`${prefix}leader`) })).kvs[0]?.lease });
      expect((await campaign)?.aborted).toBe(false);
      expect(await second.holder()).toBe('second');
      const err = await deposed.create<Service>(aService('by-deposed')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toContain('no longer holds the leader lease');
      expect(await store.get('Service', 'default', 'by-deposed')).toBeUndefined();
      const current = store.fenced(second.fence() as Fence);
      expect((await current.create<Service>(aService('by-second'))).metadata.name).toBe('by-second');
    } finally {
      stop.abort();
      await first.release();
      await second.release();
      await store.close();
    }
  });

  it('steps down when it cannot renew within its renew deadline (etcd frozen), before the lease expires', async () => {
    if (!member) throw new Error('etcd did not start');
    const ca = await loadCertificateAuthority(join(dir, 'server'));
    const lone = await startEtcdMember({ name: 'lone', dir: join(dir, 'lone'), clientPort: await freePort(), peerPort: await freePort(), ca });
    const store = await openEtcdStore({ endpoints: [lone.clientUrl], tls: lone.clientTls, prefix: '/step-down/' });
    const lease = new EtcdLeaderLease({ client: store.etcd, prefix: '/step-down/', logger, ttlSeconds: 15, renewEveryMs: 200, renewDeadlineMs: 1500 });
    const stop = new AbortController();
    try {
      const held = await lease.acquire(stop.signal);
      expect(held?.aborted).toBe(false);
      await new Promise((r) => setTimeout(r, 600));
      expect(held?.aborted).toBe(false); // renewals work
      process.kill(lone.pid, 'SIGSTOP');
      const t0 = Date.now();
      await new Promise<void>((resolve) => held?.addEventListener('abort', () => resolve(), { once: true }));
      const after = Date.now() - t0;
      expect(after).toBeLessThan(5000); // the renew deadline (1.5 s), far inside the 15 s TTL
      expect(lease.fence()).toBeUndefined();
    } finally {
      process.kill(lone.pid, 'SIGCONT');
      stop.abort();
      await lease.release();
      await store.close();
      await lone.stop();
    }
  });
});

describe('etcd heartbeat pace', () => {
  const logger = pino({ level: 'silent' });

  it('paces every server by the leader’s rate; a deposed leader cannot publish its own', async () => {
    const opts = on();
    const store = await openEtcdStore(opts);
    const prefix = opts.prefix as string;
    const first = new EtcdLeaderLease({ client: store.etcd, prefix, identity: 'first', logger, retryEveryMs: 100 });
    const second = new EtcdLeaderLease({ client: store.etcd, prefix, identity: 'second', logger, retryEveryMs: 100 });
    // The first server runs at 500 heartbeats a second, the second was given 20.
    const paceA = new EtcdHeartbeatPace(store.etcd, prefix, 500, logger);
    const paceB = new EtcdHeartbeatPace(store.etcd, prefix, 20, logger);
    const stop = new AbortController();
    const runs = [paceA.run(stop.signal), paceB.run(stop.signal)];
    try {
      await new Promise((r) => setTimeout(r, 200));
      // No leader has written one: each goes by its own.
      expect([paceA.rate(), paceB.rate()]).toEqual([500, 20]);
      await first.acquire(stop.signal);
      const oldFence = first.fence() as Fence;
      await paceA.publish(oldFence);
      await waitFor('the follower to take the leader’s rate', async () => paceB.rate() === 500, 5000, 25);
      // A value no server takes is ignored.
      await store.etcd.kv.put({ key: Buffer.from(`${prefix}heartbeat-pace`), value: Buffer.from('5') });
      await new Promise((r) => setTimeout(r, 300));
      expect(paceB.rate()).toBe(500);
      // The first's lease goes; the second wins and publishes its 20; the deposed first cannot write 500 back.
      const campaign = second.acquire(stop.signal);
      await store.etcd.leaseClient.leaseRevoke({ ID: (await store.etcd.kv.range({ key: Buffer.from(`${prefix}leader`) })).kvs[0]?.lease });
      await campaign;
      await paceB.publish(second.fence());
      await waitFor('the old leader to take the new leader’s rate', async () => paceA.rate() === 20, 5000, 25);
      const err = await paceA.publish(oldFence).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toContain('no longer holds the leader lease');
      await new Promise((r) => setTimeout(r, 300));
      expect([paceA.rate(), paceB.rate()]).toEqual([20, 20]);
      expect((await store.etcd.kv.range({ key: Buffer.from(`${prefix}heartbeat-pace`) })).kvs[0]?.value.toString()).toBe('20');
    } finally {
      stop.abort();
      await Promise.all(runs);
      await first.release();
      await second.release();
      await store.close();
    }
  });
});

describe('etcd store: space', () => {
  it('says NOSPACE clearly, with the fix, when etcd reaches its quota', async () => {
    const ca = await loadCertificateAuthority(join(dir, 'server'));
    const small = await startEtcdMember({ name: 'small', dir: join(dir, 'small'), clientPort: await freePort(), peerPort: await freePort(), ca, extraArgs: ['--quota-backend-bytes=16777216'] });
    const store = await openEtcdStore({ endpoints: [small.clientUrl], tls: small.clientTls, prefix: '/space/' });
    try {
      const big = 'x'.repeat(512 * 1024);
      let err: unknown;
      for (let i = 0; i < 200 && err === undefined; i++) {
        await store.create({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: `c${i}`, namespace: 'default' }, spec: { data: { blob: big } } } as never).catch((e: unknown) => (err = e));
      }
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toMatch(/quota-backend-bytes \(NOSPACE alarm\).*etcdctl compact.*etcdctl defrag.*alarm disarm/);
    } finally {
      await store.close();
      await small.stop();
    }
  }, 120_000);

  it('compacts etcd history and defragments a sparse member, and watches of the store go on', async () => {
    const store = await openEtcdStore({ ...on(), compactKeep: 1 });
    try {
      const ac = new AbortController();
      const watch = store.watch({ kind: 'Service', fromRevision: await store.currentRevision() }, ac.signal);
      let v = await store.create<Service>(aService('churn'));
      for (let i = 0; i < 20; i++) v = await store.update(withReplicas(v, i + 2));
      const to = await store.compact();
      expect(to).toBe((await store.currentRevision()) - 1);
      const events = await readUntil(watch, v.metadata.revision);
      ac.abort();
      expect(events).toHaveLength(21);
      expect(await store.defragmentIfSparse()).toBe(false); // a small file: not worth it
    } finally {
      await store.close();
    }
  });
});
