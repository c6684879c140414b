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
import { UnavailableError, untilAborted } from '../core/index.js';
import { HEARTBEAT_RATE_RANGE, isHeartbeatRate, type HeartbeatRate } from '../runtime/heartbeat-pace.js';
import type { Fence } from '../store/etcd-store.js';

export class EtcdHeartbeatPace {
  private readonly key: Buffer;
  private leaderRate: number | undefined;

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

  /** Reads the key, then follows it until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const res = await this.client.kv.range({ key: this.key });
    const kv = res.kvs[0];
    if (kv) this.heard(kv.value.toString());
    if (signal.aborted) return;
    const watcher: Watcher = await this.client.watch().key(this.key).startRevision(String(Number(res.header.revision) + 1)).create();
    watcher.on('put', (k) => this.heard(k.value.toString()));
    watcher.on('error', (e: Error) => this.logger.warn({ err: e.message }, 'heartbeat pace watch failed'));
    try {
      await untilAborted(signal);
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /**
   * Writes this server's rate as the cluster's, only while `fence` (the leader lease it won) is
   * still held: a deposed leader's write is refused.
   */
  async publish(fence: Fence | undefined): Promise<void> {
    const value = Buffer.from(String(this.own));
    if (!fence) {
      await this.client.kv.put({ key: this.key, value });
    } else {
      const res = await this.client.kv.txn({
        compare: [{ key: Buffer.from(fence.key), target: 'Create', result: 'Equal', create_revision: fence.createRevision }],
        success: [{ request_put: { key: this.key, value } }],
        failure: [],
      });
      if (!res.succeeded) throw new UnavailableError(`this server no longer holds the leader lease (${fence.key} won at revision ${fence.createRevision}): the heartbeat pace is the new leader's to write`);
    }
    this.heard(String(this.own));
  }

  private heard(value: string): void {
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
