// The etcd store against a real etcd (Debian's etcd-server, installed by scripts/ensure.sh),
// started here with TLS and client certificates from a cluster CA: the Store contract suite that
// SQLite passes too, then what only several servers on one etcd can show: a write on one is seen
// by the other's watch, and two servers updating from the same revision cannot both win.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaleRevisionError, type Service } from '../../src/core/index.js';
import { aService } from '../../src/core/test-builders.js';
import { startEtcdMember, type EtcdMember } from '../../src/server/etcd-member.js';
import { ensureClusterTls, loadCertificateAuthority } from '../../src/server/tls.js';
import { openEtcdStore, type EtcdStoreOptions } from '../../src/store/etcd-store.js';
import { storeConformance } from '../../src/store/test-store-conformance.js';
import { readUntil, withReplicas } from '../../src/store/test-helpers.js';
import { freePort } from '../support/gantry-process.js';

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
