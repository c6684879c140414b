// Node heartbeat leases shared through etcd (docs/ha.md): an agent's heartbeat reaches any server;
// the node controller runs on the leader. Each server renews its in-memory table as before
// (node-leases.ts) and writes the renewals it received to etcd once a second, in one transaction
// (`<prefix>node-leases/<node>` = the time in ms, by the receiving server's clock); every server
// follows that prefix with one watch, so the leader's table holds every node's latest heartbeat.
// Per heartbeat: one key in a batched put, no object write, no history entry of the store.
//
// Clocks: the renewal times come from the servers' clocks; keep them in NTP sync (a server far
// behind makes its nodes look silent to the leader sooner, by its skew).
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { sleep } from '../core/index.js';
import { NodeLeases } from '../runtime/node-leases.js';
import { prefixEnd } from '../store/etcd-store.js';

/** How often the cost of the renewals is logged (every 30 s). */
const REPORT_EVERY_MS = 30_000;
/** Renewals per etcd transaction (within --max-txn-ops). */
const PUTS_PER_TXN = 1000;

export class EtcdNodeLeases extends NodeLeases {
  private pending = new Map<string, number>();
  private readonly prefix: string;
  /** Renewals written to etcd (for tests and metrics). */
  written = 0;
  /** Transactions those took. */
  flushes = 0;

  constructor(
    private readonly client: Etcd3,
    clusterPrefix: string,
    private readonly logger: Logger,
    private readonly flushEveryMs = 1000,
  ) {
    super();
    this.prefix = `${clusterPrefix}node-leases/`;
  }

  override renew(name: string, now: number): void {
    super.renew(name, now);
    this.pending.set(name, Math.max(now, this.pending.get(name) ?? 0));
  }

  override forget(name: string): void {
    super.forget(name);
    this.pending.delete(name);
    void this.client.kv.deleteRange({ key: Buffer.from(this.prefix + name) }).catch(() => undefined);
  }

  /** Loads every lease, follows the others' renewals and writes ours, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const key = Buffer.from(this.prefix);
    const res = await this.client.kv.range({ key, range_end: prefixEnd(key) });
    for (const kv of res.kvs) this.heard(kv.key.toString(), kv.value.toString());
    const watcher: Watcher = await this.client.watch().prefix(this.prefix).startRevision(String(Number(res.header.revision) + 1)).create();
    watcher.on('put', (kv) => this.heard(kv.key.toString(), kv.value.toString()));
    watcher.on('error', (e: Error) => this.logger.warn({ err: e.message }, 'node lease watch failed'));
    let reportedAt = Date.now();
    let reported = { written: 0, flushes: 0 };
    try {
      while (!signal.aborted) {
        await sleep(this.flushEveryMs, signal);
        await this.flush().catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'could not write node leases to etcd; retrying'));
        if (Date.now() - reportedAt >= REPORT_EVERY_MS) {
          // What heartbeats cost etcd: renewals written and the transactions they took.
          this.logger.info({ renewals: this.written - reported.written, transactions: this.flushes - reported.flushes, seconds: Math.round((Date.now() - reportedAt) / 1000) }, 'node leases written to etcd');
          reported = { written: this.written, flushes: this.flushes };
          reportedAt = Date.now();
        }
      }
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /** Writes the renewals received since the last flush (kept for the next one if etcd refuses). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Map();
    try {
      for (let i = 0; i < batch.length; i += PUTS_PER_TXN) {
        const chunk = batch.slice(i, i + PUTS_PER_TXN);
        await this.client.kv.txn({ compare: [], success: chunk.map(([name, ms]) => ({ request_put: { key: Buffer.from(this.prefix + name), value: Buffer.from(String(ms)) } })), failure: [] });
        this.written += chunk.length;
        this.flushes++;
      }
    } catch (e) {
      for (const [name, ms] of batch) if (!this.pending.has(name)) this.pending.set(name, ms);
      throw e;
    }
  }

  private heard(key: string, value: string): void {
    const name = key.slice(this.prefix.length);
    const ms = Number(value);
    if (name !== '' && Number.isFinite(ms)) super.renew(name, ms);
  }
}
