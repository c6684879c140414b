// The heartbeat rate every server paces agents by, agreed through etcd (docs/ha.md). An agent's
// heartbeat reaches any server, and its answer asks for an interval from that server's rate
// (runtime/heartbeat-pace.ts); the node controller runs on the leader and tolerates silence from
// the leader's rate. Were a follower given a lower --max-heartbeats-per-second than the leader, it
// would ask agents for intervals longer than the leader waits for, and healthy nodes would be
// marked not ready. So the leader writes its rate to `<prefix>heartbeat-pace` when it wins
// (fenced by its lease), every server follows that key with one watch, and answers with the
// leader's rate from then on (its own until the key is read, or while none was written).
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { sleep, UnavailableError, untilAborted } from '../core/index.js';
import { HEARTBEAT_RATE_RANGE, isHeartbeatRate, type HeartbeatRate } from '../runtime/heartbeat-pace.js';
import type { Fence } from '../store/etcd-store.js';

export class EtcdHeartbeatPace {
  private readonly key: Buffer;
  private leaderRate: number | undefined;
  /** The etcd revision of the value taken last. */
  private revision = 0;

  constructor(
    private readonly client: Etcd3,
    clusterPrefix: string,
    /** This server's own rate (--max-heartbeats-per-second): what it publishes when it leads. */
    private readonly own: number,
    private readonly logger: Logger,
  ) {
    this.key = Buffer.from(`${clusterPrefix}heartbeat-pace`);
  }

  /** The rate to pace by now: the leader's once known, else this server's own. */
  readonly rate: HeartbeatRate = () => this.leaderRate ?? this.own;

  /**
   * Reads the key, then follows it until `signal` aborts; when etcd fails the read or the watch,
   * tries again (0.5 s, doubling to 10 s) rather than go by this server's own rate for good.
   */
  async run(signal: AbortSignal): Promise<void> {
    for (let delayMs = 500; !signal.aborted; delayMs = Math.min(delayMs * 2, 10_000)) {
      try {
        await this.follow(signal);
        return;
      } catch (e) {
        this.logger.warn({ err: (e as Error).message, retryInMs: delayMs }, 'could not read the heartbeat pace from etcd; retrying');
        await sleep(delayMs, signal).catch(() => undefined);
      }
    }
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const res = await this.client.kv.range({ key: this.key });
    const kv = res.kvs[0];
    if (kv) this.heard(kv.value.toString(), Number(kv.mod_revision));
    if (signal.aborted) return;
    const watcher: Watcher = await this.client.watch().key(this.key).startRevision(String(Number(res.header.revision) + 1)).create();
    watcher.on('put', (k) => this.heard(k.value.toString(), Number(k.mod_revision)));
    watcher.on('error', (e: Error) => this.logger.warn({ err: e.message }, 'heartbeat pace watch failed'));
    try {
      await untilAborted(signal);
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /**
   * Writes this server's rate as the cluster's, only while `fence` (the leader lease it won) is
   * still held: a deposed leader's write is refused. Without a fence (a server whose lease is not
   * etcd's) a plain put.
   */
  async publish(fence: Fence | undefined): Promise<void> {
    const value = Buffer.from(String(this.own));
    let revision: number;
    if (!fence) {
      revision = Number((await this.client.kv.put({ key: this.key, value })).header.revision);
    } else {
      const res = await this.client.kv.txn({
        compare: [{ key: Buffer.from(fence.key), target: 'Create', result: 'Equal', create_revision: fence.createRevision }],
        success: [{ request_put: { key: this.key, value } }],
        failure: [],
      });
      if (!res.succeeded) throw new UnavailableError(`this server no longer holds the leader lease (${fence.key} won at revision ${fence.createRevision}): the heartbeat pace is the new leader's to write`);
      revision = Number(res.header.revision);
    }
    this.heard(String(this.own), revision);
  }

  /** Takes the value the key had at `revision`, unless a later one was taken already (the watch and a publish's answer may arrive in either order). */
  private heard(value: string, revision: number): void {
    if (revision < this.revision) return;
    this.revision = revision;
    const n = Number(value);
    if (!isHeartbeatRate(n)) {
      this.logger.warn({ key: this.key.toString(), value }, `ignoring a heartbeat pace that is not a whole number from ${HEARTBEAT_RATE_RANGE.min} to ${HEARTBEAT_RATE_RANGE.max}`);
      return;
    }
    if (n === this.leaderRate) return;
    this.leaderRate = n;
    if (n !== this.own) {
      this.logger.warn(
        { leaderRate: n, ownRate: this.own },
        `the leader paces heartbeats at ${n} a second, this server's --max-heartbeats-per-second is ${this.own}: answering agents with the leader's rate; give every server the same value`,
      );
    } else {
      this.logger.info({ rate: n }, 'heartbeat pace agreed with the leader');
    }
  }
}
