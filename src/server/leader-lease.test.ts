// The leader-only seam: losing the lease stops every leader-only loop, and a server without it
// writes nothing to the store, though the cluster has work for its controllers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { GantryClient } from '../client/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_VERSION, type Manifest } from '../core/index.js';
import { runLeaderOnly, type LeaderLease } from './leader-lease.js';
import { startServer, type RunningServer } from './server-root.js';

/** A lease a test grants and revokes by hand, as an election would. */
class TestLease implements LeaderLease {
  private held: AbortController | undefined;
  private waiting: (() => void) | undefined;
  private granted = true;

  async acquire(signal: AbortSignal): Promise<AbortSignal | undefined> {
    while (!this.granted) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (signal.aborted) return undefined;
    this.held = new AbortController();
    return this.held.signal;
  }

  async release(): Promise<void> {
    this.held?.abort();
  }

  revoke(): void {
    this.granted = false;
    this.held?.abort();
  }

  grant(): void {
    this.granted = true;
    this.waiting?.();
  }
}

const service = (replicas: number): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { replicas, containers: [{ name: 'main', image: 'busybox:1.36', resources: { cpu: 0.1, memory: '64Mi' } }] },
});

describe('the leader lease of the server root', () => {
  let dataDir: string;
  let server: RunningServer | undefined;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gantry-leader-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  const instances = async (client: GantryClient): Promise<number> => (await client.list('Instance', { namespace: 'default' })).items.length;
  const revision = async (client: GantryClient): Promise<number> => (await client.version()).revision;

  it('stops every leader-only loop when the lease is lost, writes nothing without it, and starts them again when it comes back', async () => {
    const lease = new TestLease();
    server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }), nodeGracePeriodMs: 300, nodeStartupGraceMs: 300, leaderLease: lease });
    const admin = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
    expect(server.leader.leading).toBe(true);

    // Holding the lease, the controllers act: the service gets its instances.
    await admin.apply(service(2));
    await vi.waitFor(async () => expect(await instances(admin)).toBe(2), { timeout: 10_000 });

    lease.revoke();
    await server.leader.idle();
    expect(server.leader.leading).toBe(false);

    // Work for every leader-only part: a scale-up (service controller), a node that never
    // heartbeats (node lifecycle, grace 300 ms), a CronJob due every second (cron).
    await admin.apply(service(4));
    // The node's credential comes as a join's would (the Node is written with it).
    const { credential } = await server.joinLocalNode({ name: 'silent', address: '127.0.0.1', agentPort: 7999 });
    const agent = createHttpClient({ server: server.url, token: credential, ca: server.tls?.ca.certPem });
    await agent.updateNodeStatus('silent', { ready: true, capacity: { cpu: 2000, memory: 2 ** 30 }, driver: 'fake', conditions: [], lastHeartbeat: new Date(Date.now() - 60_000).toISOString() });
    await admin.apply({
      apiVersion: API_VERSION,
      kind: 'CronJob',
      metadata: { name: 'tick', namespace: 'default' },
      spec: { schedule: '* * * * * *', jobTemplate: { containers: [{ name: 'main', image: 'busybox:1.36', resources: { cpu: 0.1, memory: '64Mi' } }] } },
    });
    const before = await revision(admin);
    await sleep(2_500);
    expect(await revision(admin)).toBe(before);
    expect(await instances(admin)).toBe(2);
    expect((await admin.list('Job', { namespace: 'default' })).items).toEqual([]);

    // The lease comes back: the same work is done.
    lease.grant();
    await vi.waitFor(async () => {
      expect(await instances(admin)).toBeGreaterThanOrEqual(4);
      expect((await admin.get('Node', undefined, 'silent')).status?.ready).toBe(false);
      expect((await admin.list('Job', { namespace: 'default' })).items.length).toBeGreaterThan(0);
    }, { timeout: 10_000 });
    expect(server.leader.leading).toBe(true);
  });

  it('does not restart parts that end by themselves while the lease is held', async () => {
    const lease = new TestLease();
    const stop = new AbortController();
    let starts = 0;
    const loop = runLeaderOnly(lease, [async () => void starts++], stop.signal, pino({ level: 'silent' }));
    await sleep(100);
    expect(starts).toBe(1);
    lease.revoke();
    lease.grant();
    await vi.waitFor(() => expect(starts).toBe(2));
    stop.abort();
    await loop.done;
    expect(loop.leading).toBe(false);
  });

  it('lets every leader-only part listen to its signal without a MaxListenersExceeded warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const stop = new AbortController();
      // As many parts as the server root runs informers and controllers, and more.
      const parts = Array.from({ length: 30 }, () => (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })));
      const loop = runLeaderOnly(new TestLease(), parts, stop.signal, pino({ level: 'silent' }));
      await vi.waitFor(() => expect(loop.leading).toBe(true));
      await sleep(50);
      stop.abort();
      await loop.done;
      await sleep(10);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
