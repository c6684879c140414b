// The leader lease on etcd (docs/ha.md): several servers share one etcd; the one whose key
// `<prefix>leader` exists, attached to its etcd lease, runs the controllers, the scheduler, cron and
// the node lifecycle. Kubernetes' leader-election timing: a 15 s lease, renewed every 2 s; a
// leader that has not renewed for 10 s (its renew deadline) steps down (its signal aborts and its
// controllers stop) before etcd can expire the lease and let another server win it.
//
// Fencing: winning records the key's create_revision, and the leader's controllers write through
// `EtcdStore.fenced`, whose every transaction compares it. A deposed leader that has not noticed
// yet (a long GC pause, a partition) cannot write: its compare fails once the key was deleted or
// re-created by a new winner. (Jepsen showed that a lock alone does not make etcd writes safe.)
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { sleep } from '../core/index.js';
import type { Fence } from '../store/etcd-store.js';
import type { LeaderLease } from './leader-lease.js';

export interface EtcdLeaderLeaseOptions {
  client: Etcd3;
  /** The cluster prefix (the store's, like "/gantry/"); the key is `<prefix>leader`. */
  prefix: string;
  /** Who this server is, written as the key's value (default: host name and pid). */
  identity?: string | undefined;
  logger: Logger;
  ttlSeconds?: number | undefined;
  renewEveryMs?: number | undefined;
  renewDeadlineMs?: number | undefined;
  /** How often a follower tries to win (default 1 s). */
  retryEveryMs?: number | undefined;
  now?: () => number;
}

export const LEASE_TTL_SECONDS = 15;
export const RENEW_EVERY_MS = 2000;
export const RENEW_DEADLINE_MS = 10_000;

export class EtcdLeaderLease implements LeaderLease {
  readonly key: string;
  readonly identity: string;
  private leaseId: string | undefined;
  private held: AbortController | undefined;
  private fenceHeld: Fence | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: EtcdLeaderLeaseOptions) {
    this.key = `${opts.prefix}leader`;
    this.identity = opts.identity ?? `${hostname()}/${process.pid}`;
    this.now = opts.now ?? Date.now;
  }

  /** The fence of the lease held now; undefined while not leading. */
  fence(): Fence | undefined {
    return this.fenceHeld;
  }

  /** Who holds the lease now, as etcd says (its identity), or undefined. */
  async holder(): Promise<string | undefined> {
    const res = await this.opts.client.kv.range({ key: Buffer.from(this.key) });
    return res.kvs[0]?.value.toString();
  }

  async acquire(signal: AbortSignal): Promise<AbortSignal | undefined> {
    const retry = this.opts.retryEveryMs ?? 1000;
    let lastError = '';
    while (!signal.aborted) {
      try {
        const won = await this.campaign();
        if (won) return won;
        lastError = '';
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== lastError) this.opts.logger.warn({ err: msg, key: this.key }, 'cannot reach etcd to campaign for the leader lease; retrying');
        lastError = msg;
      }
      await sleep(retry, signal);
    }
    return undefined;
  }

  /** One try: grant an etcd lease and create the leader key on it, if nobody holds it. */
  private async campaign(): Promise<AbortSignal | undefined> {
    const { client } = this.opts;
    const key = Buffer.from(this.key);
    const probe = await client.kv.range({ key, keys_only: true });
    if (probe.kvs.length > 0) return undefined;
    const ttl = this.opts.ttlSeconds ?? LEASE_TTL_SECONDS;
    const grant = await client.leaseClient.leaseGrant({ TTL: ttl });
    const id = String(grant.ID);
    const res = await client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: Buffer.from(this.identity), lease: id } }],
      failure: [],
    });
    if (!res.succeeded) {
      await client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
      return undefined;
    }
    this.leaseId = id;
    this.fenceHeld = { key: this.key, createRevision: Number(res.header.revision) };
    const held = new AbortController();
    this.held = held;
    this.opts.logger.info({ key: this.key, identity: this.identity, revision: this.fenceHeld.createRevision }, 'won the leader lease: starting the controllers');
    this.keepRenewing(held, id);
    return held.signal;
  }

  /** Renews every renewEveryMs; steps down once renewDeadlineMs passed without a renewal, or etcd says the lease is gone. */
  private keepRenewing(held: AbortController, id: string): void {
    const every = this.opts.renewEveryMs ?? RENEW_EVERY_MS;
    const deadline = this.opts.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    let renewed = this.now();
    let inFlight = false;
    const tick = (): void => {
      if (held.signal.aborted) return;
      if (this.now() - renewed > deadline) {
        this.stepDown(held, `no renewal for ${this.now() - renewed} ms (renew deadline ${deadline} ms)`);
        return;
      }
      if (inFlight) return;
      inFlight = true;
      void this.renewOnce(id)
        .then((ttl) => {
          if (ttl > 0) renewed = this.now();
          else this.stepDown(held, 'etcd says the lease expired');
        })
        .catch((e: unknown) => this.opts.logger.warn({ err: (e as Error).message }, 'could not renew the leader lease'))
        .finally(() => {
          inFlight = false;
        });
    };
    this.renewTimer = setInterval(tick, every);
    this.renewTimer.unref();
  }

  private async renewOnce(id: string): Promise<number> {
    const stream = await this.opts.client.leaseClient.leaseKeepAlive();
    try {
      const answer = new Promise<number>((resolve, reject) => {
        stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
        stream.on('error', reject);
      });
      stream.write({ ID: id });
      return await withTimeout(answer, this.opts.renewEveryMs ?? RENEW_EVERY_MS);
    } finally {
      stream.end();
    }
  }

  private stepDown(held: AbortController, why: string): void {
    if (held.signal.aborted) return;
    this.opts.logger.warn({ key: this.key, why }, 'lost the leader lease: stopping the controllers');
    clearInterval(this.renewTimer);
    this.fenceHeld = undefined;
    held.abort();
    const id = this.leaseId;
    this.leaseId = undefined;
    if (id) void this.opts.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
  }

  async release(): Promise<void> {
    clearInterval(this.renewTimer);
    this.fenceHeld = undefined;
    this.held?.abort();
    this.held = undefined;
    const id = this.leaseId;
    this.leaseId = undefined;
    // Revoking deletes the key at once: another server takes over without waiting for the TTL.
    if (id) await this.opts.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`etcd did not answer the lease renewal within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
