// Node leases, Kubernetes-style, in memory: when each node's agent last said "I am alive".
// A heartbeat used to be a durable store write (a SQLite transaction, a history entry and a
// watch event to every Node watcher); at 5,000 nodes that is 1,000 writes a second that nobody
// but the node controller reads. The API renews a lease here on every heartbeat and persists
// `status.lastHeartbeat` only now and then; the node controller reads both.
//
// The server's composition root owns one table and hands it to the API and the controllers. It
// lives in one process: several servers (HA) would each see only the heartbeats they received.
// An etcd backend would keep these as etcd leases with a TTL instead (docs/architecture.md).
export class NodeLeases {
  /** node name -> ms since the epoch of the last renewal. */
  private readonly renewed = new Map<string, number>();

  /** Records a heartbeat of `name` at `now` (ms). A lease never moves backwards. */
  renew(name: string, now: number): void {
    const held = this.renewed.get(name);
    if (held === undefined || now > held) this.renewed.set(name, now);
  }

  /** When `name` last heartbeated through this table (ms), or undefined when it has not. */
  lastRenewed(name: string): number | undefined {
    return this.renewed.get(name);
  }

  /** How many nodes renewed at or after `sinceMs`. */
  countRenewedSince(sinceMs: number): number {
    let n = 0;
    for (const at of this.renewed.values()) if (at >= sinceMs) n++;
    return n;
  }

  /** How many nodes hold a lease (every node heard from and not forgotten). */
  get size(): number {
    return this.renewed.size;
  }

  /** Drops the lease of a node that no longer exists. */
  forget(name: string): void {
    this.renewed.delete(name);
  }
}
