// `gantry backup` and `gantry restore` as a user runs them (bin/gantry): SQLite online while the
// server runs, restore with it stopped (refused while it runs); an etcd snapshot restored with
// etcdctl into a new member, which then holds what was backed up.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/core/index.js';
import { aService } from '../../src/core/test-builders.js';
import { startEtcdMember } from '../../src/server/etcd-member.js';
import { ensureClusterTls, loadCertificateAuthority } from '../../src/server/tls.js';
import { openEtcdStore } from '../../src/store/etcd-store.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';

const run = promisify(execFile);

const SERVICE = (name: string) => `apiVersion: gantry/v1
kind: Service
metadata:
  name: ${name}
spec:
  replicas: 1
  containers:
    - name: main
      image: busybox:1.36
      command: ["sleep", "3600"]
`;

describe('backup and restore', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('backs SQLite up while the server runs, refuses to restore under it, and restores once stopped', async () => {
    const g = await GantryProcesses.create();
    cleanups.push(() => g.close());
    const server = await g.server();
    expect((await g.apply(SERVICE('kept'))).code).toBe(0);
    const file = join(g.dataDir, 'backup.db');
    const backup = await g.cli(['backup', file]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/Backed up state\.db at revision \d+ \(\d+ objects\) to .*backup\.db/);
    // Changes after the backup: one service gone, one new.
    expect((await g.cli(['delete', 'service', 'kept'])).code).toBe(0);
    expect((await g.apply(SERVICE('later'))).code).toBe(0);
    const refused = await g.cli(['restore', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('stop the server before gantry restore');
    await g.stop(server);
    const restored = await g.cli(['restore', file]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/previous state is kept as .*state\.db\.before-restore-/);
    await g.server();
    const names = (await g.getJson<{ items: { metadata: { name: string } }[] }>(['get', 'services'])).items.map((s) => s.metadata.name);
    expect(names).toEqual(['kept']);
  }, 120_000);

  it('refuses a file that is not a Gantry backup, naming it', async () => {
    const g = await GantryProcesses.create();
    cleanups.push(() => g.close());
    const junk = join(g.dataDir, 'junk.db');
    await writeFile(junk, 'not a database at all, just text');
    const r = await g.cli(['restore', junk]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(junk);
  });

  it('takes an etcd snapshot that etcdctl restores into a new member holding the same objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-test-backup-etcd-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await ensureClusterTls(join(dir, 'ca'));
    const ca = await loadCertificateAuthority(join(dir, 'ca'));
    const first = await startEtcdMember({ name: 'b1', dir: join(dir, 'b1'), clientPort: await freePort(), peerPort: await freePort(), ca });
    cleanups.push(() => first.stop());
    const store = await openEtcdStore({ endpoints: [first.clientUrl], tls: first.clientTls });
    const web = await store.create<Service>(aService('web'));
    await store.close();
    const files = { ca: join(dir, 'ca', 'tls', 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    await writeFile(files.cert, first.clientTls.cert);
    await writeFile(files.key, first.clientTls.key, { mode: 0o600 });
    const g = await GantryProcesses.create();
    cleanups.push(() => g.close());
    const snapshot = join(dir, 'etcd.snapshot');
    const backup = await g.cli(['backup', snapshot, '--store', 'etcd', '--etcd-endpoints', first.clientUrl, '--etcd-ca', files.ca, '--etcd-cert', files.cert, '--etcd-key', files.key]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/Backed up etcd .* at revision \d+ to .*etcd\.snapshot/);
    const steps = await g.cli(['restore', snapshot, '--store', 'etcd']);
    expect(steps.stdout).toContain(`etcdctl snapshot restore ${snapshot}`);
    await first.stop();
    // What the printed steps say, for one member.
    const peerPort = await freePort();
    const peer = `https://127.0.0.1:${peerPort}`;
    await run('etcdctl', ['snapshot', 'restore', snapshot, '--name', 'b2', '--data-dir', join(dir, 'b2', 'data'), '--initial-cluster', `b2=${peer}`, '--initial-advertise-peer-urls', peer], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    const second = await startEtcdMember({ name: 'b2', dir: join(dir, 'b2'), clientPort: await freePort(), peerPort, ca });
    cleanups.push(() => second.stop());
    const back = await openEtcdStore({ endpoints: [second.clientUrl], tls: second.clientTls });
    try {
      expect(await back.get('Service', 'default', 'web')).toEqual(web);
    } finally {
      await back.close();
    }
  }, 120_000);

  it('moves a SQLite backup into an empty etcd: same objects, uids and Secrets; refuses a prefix in use', async () => {
    const g = await GantryProcesses.create();
    cleanups.push(() => g.close());
    const server = await g.server();
    expect((await g.apply(SERVICE('moved'))).code).toBe(0);
    expect((await g.apply('apiVersion: gantry/v1\nkind: Secret\nmetadata: { name: db }\nspec:\n  data:\n    password: s3cr3t\n')).code).toBe(0);
    const before = (await g.getJson<{ items: Service[] }>(['get', 'services'])).items;
    const file = join(g.dataDir, 'move.db');
    expect((await g.cli(['backup', file])).code).toBe(0);
    await g.stop(server);
    const dir = await mkdtemp(join(tmpdir(), 'gantry-test-move-etcd-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const ca = await loadCertificateAuthority(g.dataDir);
    const member = await startEtcdMember({ name: 'mv', dir: join(dir, 'mv'), clientPort: await freePort(), peerPort: await freePort(), ca });
    cleanups.push(() => member.stop());
    await writeFile(join(dir, 'client.crt'), member.clientTls.cert);
    await writeFile(join(dir, 'client.key'), member.clientTls.key, { mode: 0o600 });
    const flags = ['--store', 'etcd', '--etcd-endpoints', member.clientUrl, '--etcd-ca', join(g.dataDir, 'tls', 'ca.crt'), '--etcd-cert', join(dir, 'client.crt'), '--etcd-key', join(dir, 'client.key')];
    const moved = await g.cli(['restore', file, ...flags]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/Imported \d+ objects from .*move\.db into etcd under \/gantry\/objects\//);
    const again = await g.cli(['restore', file, ...flags]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('import only into an empty prefix');
    // The same server's data dir, now on etcd: the objects are there with their uids.
    await g.server(flags);
    const after = (await g.getJson<{ items: Service[] }>(['get', 'services'])).items;
    expect(after.map((s) => [s.metadata.name, s.metadata.uid])).toEqual(before.map((s) => [s.metadata.name, s.metadata.uid]));
    // The Secret moved sealed and opens with the same key: the server still has its data.
    const secrets = (await g.getJson<{ items: { metadata: { name: string } }[] }>(['get', 'secrets'])).items;
    expect(secrets.map((x) => x.metadata.name)).toEqual(['db']);
    expect(g.logOf('server')).not.toContain('not in the keyring');
  }, 120_000);
});
