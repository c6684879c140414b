// Two Gantry servers on one etcd (real etcd with TLS, real dockerd): either serves the API; the
// leader lease decides which runs the controllers; heartbeats sent to one server reach the
// leader's node lifecycle through etcd; killing the leader hands the controllers to the other
// within the lease's TTL, and the cluster keeps converging.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../src/core/index.js';
import { startEtcdMember, type EtcdMember } from '../../src/server/etcd-member.js';
import { ensureClusterTls, loadCertificateAuthority } from '../../src/server/tls.js';
import { SHARED_FILES } from '../../src/server/ha-cluster.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';


describe('HA: two servers on etcd', () => {
  let dir = '';
  let member: EtcdMember | undefined;
  let a: GantryProcesses;
  let b: GantryProcesses;
  let serverA: ChildProcess;
  let image = '';
  let etcdFlags: string[] = [];

  beforeAll(async () => {
    image = await ensureTestImage();
    dir = await mkdtemp(join(tmpdir(), 'gantry-test-ha-'));
    a = await GantryProcesses.create();
    b = await GantryProcesses.create();
    // The cluster CA is server A's: etcd's certificates come from it too.
    await ensureClusterTls(a.dataDir);
    const ca = await loadCertificateAuthority(a.dataDir);
    member = await startEtcdMember({ name: 'm1', dir: join(dir, 'm1'), clientPort: await freePort(), peerPort: await freePort(), ca });
    await writeFile(join(dir, 'etcd-client.crt'), member.clientTls.cert);
    await writeFile(join(dir, 'etcd-client.key'), member.clientTls.key, { mode: 0o600 });
    etcdFlags = ['--store', 'etcd', '--etcd-endpoints', member.clientUrl, '--etcd-ca', join(a.dataDir, 'tls', 'ca.crt'), '--etcd-cert', join(dir, 'etcd-client.crt'), '--etcd-key', join(dir, 'etcd-client.key'), '--node-grace-period', '8s'];
    serverA = await a.server(etcdFlags);
    // Server B shares A's CA, keys and admin token (the documented copy step), not its state.
    for (const f of SHARED_FILES) {
      await mkdir(join(b.dataDir, 'tls'), { recursive: true, mode: 0o700 });
      await copyFile(join(a.dataDir, f.path), join(b.dataDir, f.path));
    }
    await b.server(etcdFlags);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await member?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves one cluster from both servers, with the controllers on the leader only', async () => {
    expect(a.clusterId).toBe(b.clusterId);
    // A started first and holds the lease; B follows.
    expect(a.logOf('server')).toContain('won the leader lease');
    expect(b.logOf('server')).not.toContain('won the leader lease');
    // A node joins knowing both servers, B (the follower) first: its heartbeats reach A's node
    // lifecycle through etcd.
    const home = b.agentHome('ha-node');
    await mkdir(home, { recursive: true });
    const joinToken = await b.joinToken();
    b.spawn('ha-node', ['agent', '--join', `${b.url},${a.url}`, '--name', 'ha-node', '--driver', 'docker', '--publish-address', '127.0.0.1', '--port-range', '23500-23999', '--heartbeat-interval', '1s'], { GANTRY_HOME: home, GANTRY_TOKEN: joinToken });
    await waitFor('the node to be ready (seen through A)', async () => {
      const nodes = await a.getJson<{ items: { metadata: { name: string }; status?: { ready?: boolean } }[] }>(['get', 'nodes']);
      return nodes.items.some((n) => n.metadata.name === 'ha-node' && n.status?.ready === true);
    }, 60_000);
    // Applied through B, placed and started by A's controllers, running on the node B serves.
    expect((await b.apply(webService('web', 2, image))).code).toBe(0);
    await waitFor('2 ready instances', async () => (await instancesOf(a, 'web')).filter((i) => i.status?.ready).length === 2, 90_000);
    // Well past the grace period: the node stayed ready although A never got one heartbeat.
    await new Promise((r) => setTimeout(r, 10_000));
    const node = (await a.getJson<{ items: { metadata: { name: string }; status?: { ready?: boolean } }[] }>(['get', 'nodes'])).items.find((n) => n.metadata.name === 'ha-node');
    expect(node?.status?.ready).toBe(true);
  }, 240_000);

  it('hands the controllers to the other server when the leader dies, and keeps converging', async () => {
    const before = await instancesOf(b, 'web');
    // SIGKILL: no clean release; B must wait for the etcd lease to expire (15 s TTL).
    const killedAt = Date.now();
    await a.stop(serverA, 'SIGKILL');
    await waitFor('B to win the leader lease', async () => b.logOf('server').includes('won the leader lease'), 40_000);
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeLessThan(30_000);
    // The new leader acts: a scale-up through B gets its third instance placed and running.
    expect((await b.cli(['scale', 'service', 'web', '--replicas', '3'])).code).toBe(0);
    await waitFor('3 ready instances after the failover', async () => (await instancesOf(b, 'web')).filter((i: Instance) => i.status?.ready).length === 3, 90_000);
    // Nothing that ran was replaced: the failover did not count the node as lost.
    const after = await instancesOf(b, 'web');
    for (const i of before) expect(after.map((x) => x.metadata.name)).toContain(i.metadata.name);
  }, 240_000);

  it('fails the agent over to the other server when its server stops, and the restarted one leads', async () => {
    // A comes back on its old address (the agent knows it by that) and follows.
    const port = new URL(a.url).port;
    a.spawn('server-again', ['server', '--listen', `127.0.0.1:${port}`, ...etcdFlags]);
    await a.waitReady('server-again');
    // B stops cleanly: it gives the lease up, A wins it at once (no TTL to wait out).
    const stoppedAt = Date.now();
    await b.stop([...b.procs].find((p) => p.spawnargs.includes('server')) as ChildProcess);
    await waitFor('A to win the leader lease again', async () => a.logOf('server-again').includes('won the leader lease'), 20_000);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    // The agent (B first in its list) now talks to A: its node stays ready, and a scale-up runs.
    expect((await a.cli(['scale', 'service', 'web', '--replicas', '4'])).code).toBe(0);
    await waitFor('4 ready instances on the node that failed over', async () => (await instancesOf(a, 'web')).filter((i: Instance) => i.status?.ready).length === 4, 90_000);
    const nodes = await a.getJson<{ items: { metadata: { name: string }; status?: { ready?: boolean } }[] }>(['get', 'nodes']);
    expect(nodes.items.find((n) => n.metadata.name === 'ha-node')?.status?.ready).toBe(true);
    expect(b.logOf('ha-node')).not.toContain('registering again');
  }, 240_000);
});
