// Three Gantry servers (separate processes) on a three-member etcd (real etcd with TLS, real
// dockerd) and one agent that knows all three: the faults docs/ha.md lists, one after another.
// - kill -9 of the leader: a new leader within 20 s, a scale-up through another server, no
//   container restarted or duplicated, every instance name unique;
// - kill -STOP of the leader past its lease: another takes over; when it wakes (kill -CONT) it
//   steps down and nothing it tried to write lands;
// - etcd: one member lost, writes go on; two lost, writes are refused with a clear error; both
//   back, writes go on without restarting a server.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type Instance } from '../../src/core/index.js';
import { createHttpClient } from '../../src/client/http-client.js';
import { startEtcdMember, type EtcdMember } from '../../src/server/etcd-member.js';
import { SHARED_FILES } from '../../src/server/ha-cluster.js';
import { ensureClusterTls, loadCertificateAuthority, type CertificateAuthority } from '../../src/server/tls.js';
import { containersWithLabels } from '../support/docker-cli.js';
import { freePort, GantryProcesses } from '../support/gantry-process.js';
import { instancesOf, webService } from '../support/instances.js';
import { ensureTestImage } from '../support/test-image.js';
import { waitFor } from '../support/wait.js';

interface Server {
  g: GantryProcesses;
  proc: ChildProcess;
  url: string;
  /** Log names of this server's starts, newest last. */
  logs: string[];
  /** Flags of its own, beside the shared ones. */
  args: string[];
}

describe('HA: three servers on a three-member etcd', () => {
  let dir = '';
  let ca: CertificateAuthority;
  const members: (EtcdMember | undefined)[] = [];
  const memberPorts: { client: number; peer: number }[] = [];
  const servers: Server[] = [];
  let agentHost: GantryProcesses;
  let agent: ChildProcess | undefined;
  let image = '';
  let etcdFlags: string[] = [];
  const ready = async (name = 'web'): Promise<Instance[]> => (await instancesOf(servers.find(alive)!.g, name)).filter((i) => i.status?.ready);
  const alive = (s: Server): boolean => s.proc.exitCode === null && s.proc.signalCode === null;
  const leader = async (): Promise<Server> => {
    let found: Server | undefined;
    await waitFor('a leader', async () => {
      // The newest "won" line among the live servers' current logs.
      found = servers.filter(alive).find((s) => {
        const log = s.g.logOf(s.logs[s.logs.length - 1] as string);
        return log.lastIndexOf('won the leader lease') > log.lastIndexOf('lost the leader lease');
      });
      return found !== undefined;
    }, 40_000);
    return found as Server;
  };

  const startMember = async (i: number): Promise<void> => {
    const names = ['m1', 'm2', 'm3'];
    const initialCluster = Object.fromEntries(names.map((n, k) => [n, `https://127.0.0.1:${memberPorts[k]!.peer}`]));
    members[i] = await startEtcdMember({ name: names[i] as string, dir: join(dir, names[i] as string), clientPort: memberPorts[i]!.client, peerPort: memberPorts[i]!.peer, initialCluster, ca }, 60_000);
  };

  const startServer = async (s: Server, logName: string): Promise<void> => {
    const port = new URL(s.url).port;
    s.proc = s.g.spawn(logName, ['server', '--listen', `127.0.0.1:${port}`, ...etcdFlags, ...s.args]);
    s.logs.push(logName);
    s.g.url = s.url;
    await s.g.waitReady(logName);
  };

  const startAgent = (serverList: Server[]): void => {
    agent = agentHost.spawn(`agent-${Date.now()}`, ['agent', '--server', serverList.map((s) => s.url).join(','), '--heartbeat-interval', '1s'], { GANTRY_HOME: agentHost.agentHome('ha-node') });
  };

  beforeAll(async () => {
    image = await ensureTestImage();
    dir = await mkdtemp(join(tmpdir(), 'gantry-test-ha-'));
    for (let i = 0; i < 3; i++) memberPorts.push({ client: await freePort(), peer: await freePort() });
    const first = await GantryProcesses.create();
    await ensureClusterTls(first.dataDir);
    ca = await loadCertificateAuthority(first.dataDir);
    await Promise.all([0, 1, 2].map((i) => startMember(i)));
    const m = members[0] as EtcdMember;
    await writeFile(join(dir, 'etcd-client.crt'), m.clientTls.cert);
    await writeFile(join(dir, 'etcd-client.key'), m.clientTls.key, { mode: 0o600 });
    const endpoints = memberPorts.map((p) => `https://127.0.0.1:${p.client}`).join(',');
    etcdFlags = ['--store', 'etcd', '--etcd-endpoints', endpoints, '--etcd-ca', join(first.dataDir, 'tls', 'ca.crt'), '--etcd-cert', join(dir, 'etcd-client.crt'), '--etcd-key', join(dir, 'etcd-client.key'), '--node-grace-period', '15s'];
    for (let i = 0; i < 3; i++) {
      const g = i === 0 ? first : await GantryProcesses.create();
      if (i > 0) {
        await mkdir(join(g.dataDir, 'tls'), { recursive: true, mode: 0o700 });
        for (const f of SHARED_FILES) await copyFile(join(first.dataDir, f.path), join(g.dataDir, f.path));
      }
      // Server 3 is given another heartbeat rate: it must pace agents by the leader's.
      const s: Server = { g, proc: undefined as unknown as ChildProcess, url: `https://127.0.0.1:${await freePort()}`, logs: [], args: i === 2 ? ['--max-heartbeats-per-second', '20'] : [] };
      servers.push(s);
      await startServer(s, 'server');
    }
    // The agent joins through server 3 and knows all three, 3 first: its heartbeats go to a follower.
    agentHost = await GantryProcesses.create();
    const home = agentHost.agentHome('ha-node');
    await mkdir(home, { recursive: true });
    const joinToken = await servers[2]!.g.joinToken();
    agent = agentHost.spawn('agent-join', ['agent', '--join', [servers[2], servers[1], servers[0]].map((s) => s!.url).join(','), '--name', 'ha-node', '--driver', 'docker', '--publish-address', '127.0.0.1', '--port-range', '23500-23999', '--heartbeat-interval', '1s'], { GANTRY_HOME: home, GANTRY_TOKEN: joinToken });
    agentHost.clusterId = servers[0]!.g.clusterId;
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) if (s.proc && !alive(s)) s.g.procs.delete(s.proc);
    for (const s of servers) if (s.proc?.signalCode === 'SIGSTOP') s.proc.kill('SIGCONT');
    await agentHost?.close();
    for (const s of servers) await s.g.close();
    for (const m of members) await m?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a 5-replica service applied through a follower, placed by the leader', async () => {
    const lead = await leader();
    expect(lead).toBe(servers[0]);
    await waitFor('the node to be ready', async () => {
      const r = await servers[1]!.g.cli(['get', 'nodes', '-o', 'json']);
      return r.code === 0 && (JSON.parse(r.stdout) as { items: { status?: { ready?: boolean } }[] }).items.some((n) => n.status?.ready === true);
    }, 60_000);
    expect((await servers[1]!.g.apply(webService('web', 5, image))).code).toBe(0);
    await waitFor('5 ready instances', async () => (await ready()).length === 5, 120_000);
  }, 180_000);

  it('paces heartbeats by the leader’s rate on every server: the one given another says so', async () => {
    expect(await leader()).toBe(servers[0]);
    const follower = servers[2]!;
    await waitFor('the follower to take the leader’s heartbeat rate', async () =>
      follower.g.logOf(follower.logs[follower.logs.length - 1] as string).includes("the leader paces heartbeats at 500 a second, this server's --max-heartbeats-per-second is 20"),
    30_000);
  }, 60_000);

  it('elects a new leader within 20 s of a kill -9, scales to 8 through another server, restarts and duplicates nothing', async () => {
    const containersBefore = await containersWithLabels({ 'io.gantry.cluster': servers[0]!.g.clusterId }, false);
    expect(containersBefore).toHaveLength(5);
    const old = await leader();
    const killedAt = Date.now();
    await old.g.stop(old.proc, 'SIGKILL');
    const next = await leader();
    const failover = Date.now() - killedAt;
    console.log(`failover: a new leader ${failover} ms after kill -9`);
    expect(failover).toBeLessThanOrEqual(20_000);
    const other = servers.find((s) => alive(s) && s !== next) as Server;
    expect((await other.g.cli(['scale', 'service', 'web', '--replicas', '8'])).code).toBe(0);
    await waitFor('8 ready instances', async () => (await ready()).length === 8, 120_000);
    const instances = await instancesOf(other.g, 'web');
    expect(instances).toHaveLength(8);
    expect(new Set(instances.map((i) => i.metadata.name)).size).toBe(8);
    const containersAfter = await containersWithLabels({ 'io.gantry.cluster': servers[0]!.g.clusterId }, false);
    for (const id of containersBefore) expect(containersAfter).toContain(id);
    expect(containersAfter).toHaveLength(8);
  }, 180_000);

  it('fences a leader frozen past its lease: it steps down on waking, and none of its writes land', async () => {
    // Bring the killed server back as a follower first: three again.
    const dead = servers.find((s) => !alive(s)) as Server;
    await startServer(dead, `server-${dead.logs.length + 1}`);
    const frozen = await leader();
    // The agent must not be talking to the server about to freeze (a frozen server accepts
    // connections and never answers): restart it knowing the other two only (containers adopted).
    await agentHost.stop(agent as ChildProcess);
    startAgent(servers.filter((s) => s !== frozen));
    const containersBefore = await containersWithLabels({ 'io.gantry.cluster': servers[0]!.g.clusterId }, false);
    frozen.proc.kill('SIGSTOP');
    try {
      const next = await leader().catch(() => undefined);
      // Wait until someone else has won (the frozen one's log still says it leads).
      await waitFor('another server to win', async () => servers.some((s) => s !== frozen && alive(s) && s.g.logOf(s.logs[s.logs.length - 1] as string).includes('won the leader lease')) && next !== undefined, 40_000);
      const winner = servers.find((s) => s !== frozen && s.g.logOf(s.logs[s.logs.length - 1] as string).includes('won the leader lease')) as Server;
      // Work for the new leader while the old one sleeps: scale down to 6.
      expect((await winner.g.cli(['scale', 'service', 'web', '--replicas', '6'])).code).toBe(0);
      await waitFor('6 instances', async () => (await instancesOf(winner.g, 'web')).length === 6, 60_000);
    } finally {
      frozen.proc.kill('SIGCONT');
    }
    const log = (): string => frozen.g.logOf(frozen.logs[frozen.logs.length - 1] as string);
    await waitFor('the woken leader to step down', async () => log().includes('lost the leader lease'), 30_000);
    // Whatever its controllers tried after waking was refused by the fence, and the cluster holds
    // the new leader's decisions: 6 instances, unique names, no container from the frozen one.
    await new Promise((r) => setTimeout(r, 3000));
    const winner = servers.find((s) => s !== frozen) as Server;
    const instances = await instancesOf(winner.g, 'web');
    expect(instances).toHaveLength(6);
    expect(new Set(instances.map((i) => i.metadata.name)).size).toBe(6);
    const containersAfter = await containersWithLabels({ 'io.gantry.cluster': servers[0]!.g.clusterId }, false);
    for (const id of containersAfter) expect(containersBefore).toContain(id);
  }, 180_000);

  it('writes on with one etcd member lost, refuses writes clearly with two lost, and goes on when they return', async () => {
    const via = servers.find(alive) as Server;
    await members[2]?.stop();
    const one = await via.g.cli(['scale', 'service', 'web', '--replicas', '5']);
    expect(one.code, one.stderr).toBe(0);
    await members[1]?.stop();
    const refused = await via.g.cli(['scale', 'service', 'web', '--replicas', '4']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/etcd/);
    // Reads still answer, from the server's copy.
    expect((await via.g.cli(['get', 'services'])).code).toBe(0);
    await Promise.all([startMember(1), startMember(2)]);
    await waitFor('writes to go through again', async () => (await via.g.cli(['scale', 'service', 'web', '--replicas', '4'])).code === 0, 60_000);
    await waitFor('4 ready instances', async () => (await ready()).length === 4, 120_000);
  }, 240_000);

  it('loses no acknowledged write and lets no two updates win from one revision while leaders are killed (a list-append check)', async () => {
    const first = servers.find(alive) as Server;
    const objects = ['reg-0', 'reg-1', 'reg-2'];
    for (const name of objects) expect((await first.g.apply(`apiVersion: gantry/v1\nkind: Config\nmetadata: { name: ${name} }\nspec:\n  data:\n    log: ""\n`)).code).toBe(0);
    const ca = first.g.caPem();
    const token = first.g.token;
    type Outcome = { obj: string; token: string; base: number; result: 'ok' | 'conflict' | 'unknown' };
    const outcomes: Outcome[] = [];
    const stopAt = Date.now() + 25_000;
    // Four clients, each starting at a different server and failing over along the list.
    const worker = async (w: number): Promise<void> => {
      const order = [0, 1, 2].map((k) => servers[(w + k) % 3] as Server);
      const client = createHttpClient({ server: order.map((s) => s.url).join(','), token, ca, timeoutMs: 5000 });
      for (let op = 0; Date.now() < stopAt; op++) {
        const obj = objects[(w + op) % objects.length] as string;
        let base = -1;
        let log = '';
        try {
          const cur = (await client.get('Config', 'default', obj)) as { metadata: { revision: number }; spec: { data: Record<string, string> } };
          base = cur.metadata.revision;
          log = cur.spec.data.log ?? '';
        } catch {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const t = `w${w}o${op}`;
        try {
          await client.apply({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: obj, namespace: 'default', revision: base }, spec: { data: { log: `${log} ${t}`.trim() } } } as never);
          outcomes.push({ obj, token: t, base, result: 'ok' });
        } catch (e) {
          outcomes.push({ obj, token: t, base, result: isAppError(e, 'CONFLICT') ? 'conflict' : 'unknown' });
        }
      }
      client.close();
    };
    // The faults: kill -9 the leader, bring it back, and again.
    const faults = (async () => {
      for (const at of [5000, 14_000]) {
        await new Promise((r) => setTimeout(r, at === 5000 ? 5000 : 4000));
        const lead = await leader();
        await lead.g.stop(lead.proc, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 3000));
        await startServer(lead, `server-${lead.logs.length + 1}`);
      }
    })();
    await Promise.all([0, 1, 2, 3].map((w) => worker(w)));
    await faults;
    const via = servers.find(alive) as Server;
    const chains = new Map<string, string[]>();
    for (const obj of objects) {
      const r = await via.g.getJson<{ spec: { data: Record<string, string> } }>(['get', 'config', obj]).catch(async () => {
        const c = createHttpClient({ server: via.url, token, ca });
        return await c.get('Config', 'default', obj);
      });
      chains.set(obj, (r.spec.data.log ?? '').split(' ').filter((x) => x !== ''));
    }
    const acked = outcomes.filter((o) => o.result === 'ok');
    console.log(`list-append: ${outcomes.length} updates, ${acked.length} acknowledged, ${outcomes.filter((o) => o.result === 'conflict').length} conflicts, ${outcomes.filter((o) => o.result === 'unknown').length} unknown`);
    expect(acked.length).toBeGreaterThan(20);
    for (const [obj, chain] of chains) expect(new Set(chain).size, `${obj}: a token appended twice`).toBe(chain.length);
    for (const o of acked) expect(chains.get(o.obj), `acknowledged ${o.token} lost`).toContain(o.token);
    for (const o of outcomes.filter((x) => x.result === 'conflict')) expect(chains.get(o.obj), `${o.token} got 409 but landed`).not.toContain(o.token);
    const bases = new Set<string>();
    for (const o of acked) {
      const key = `${o.obj}@${o.base}`;
      expect(bases.has(key), `two updates of ${o.obj} won from revision ${o.base}`).toBe(false);
      bases.add(key);
    }
  }, 180_000);

  it('runs a cron job every 2 s through two leader kills: no scheduled time twice, none missed', async () => {
    const via = servers.find(alive) as Server;
    const yaml = `apiVersion: gantry/v1
kind: CronJob
metadata:
  name: beat
spec:
  schedule: "@every 2s"
  startingDeadlineSeconds: 60
  successfulJobsHistoryLimit: 200
  failedJobsHistoryLimit: 200
  jobTemplate:
    containers:
      - name: main
        image: ${image}
        command: ["/bin/sh", "-c", "true"]
        resources: { cpu: 0.01, memory: 8Mi }
`;
    expect((await via.g.apply(yaml)).code).toBe(0);
    for (let k = 0; k < 2; k++) {
      await new Promise((r) => setTimeout(r, 5000));
      const lead = await leader();
      await lead.g.stop(lead.proc, 'SIGKILL');
      await leader(); // another server leads (up to the 15 s lease)
      await startServer(lead, `server-${lead.logs.length + 1}`);
    }
    await new Promise((r) => setTimeout(r, 5000));
    const any = servers.find(alive) as Server;
    expect((await any.g.cli(['cronjob', 'suspend', 'beat'])).code).toBe(0);
    const jobs = (await any.g.getJson<{ items: { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } }[] }>(['get', 'jobs'])).items.filter(
      (j) => j.metadata.labels?.['gantry.io/cronjob'] === 'beat',
    );
    const times = jobs.map((j) => Date.parse(j.metadata.annotations?.['gantry.io/scheduled-time'] ?? '')).sort((a, b) => a - b);
    console.log(`cron through two leader kills: ${times.length} runs from ${new Date(times[0] ?? 0).toISOString()} to ${new Date(times[times.length - 1] ?? 0).toISOString()}`);
    expect(times.length).toBeGreaterThan(10);
    expect(new Set(times).size).toBe(times.length);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number), `a gap after ${new Date(times[i - 1] as number).toISOString()}`).toBe(2000);
    const cj = await any.g.getJson<{ status?: { missed?: number } }>(['get', 'cronjob', 'beat']);
    expect(cj.status?.missed ?? 0).toBe(0);
  }, 240_000);
});
