// The etcd Store (docs/ha.md): the same interface as the SQLite store, for several servers. etcd
// holds the objects, one key each; every server keeps a mirror of them fed by one etcd watch, and
// serves get, list and watch from it (as the Kubernetes watch cache does).
//
//   write: plan against the mirror (the same checks and errors as SQLite: txn-planner.ts)
//          -> one etcd Txn: If (each key's mod_revision is what we planned against) Then (puts, deletes)
//          -> resolves once the mirror has seen the write's revision (read your writes here)
//   feed:  etcd watch on the prefix -> mirror -> WatchHub (history tail + fan-out to watchers)
//
// Revisions are etcd's: all changes of one transaction share one revision, and revisions of
// other keys (outside the prefix) leave gaps. An object's metadata.revision is its key's
// mod_revision; the stored JSON leaves it out. A compare that fails means another server wrote
// first: the mirror catches up with the keys involved and the transaction is planned again, which
// then fails with the same ConflictError, StaleRevisionError or NotFoundError SQLite gives.
//
// Kept for watch resumption: the changes seen since this server opened the store (historyLimit of
// them); a watch from before that is EXPIRED and relists. Gantry compacts etcd's own history to
// the last `compactKeep` revisions every `compactEveryMs`.
import { randomUUID } from 'node:crypto';
import { Etcd3, type ICompare, type IOptions, type IRequestOp, type Watcher as EtcdWatcher } from 'etcd3';
import { ConflictError, InvalidError, NotFoundError, UnavailableError } from '../core/index.js';
import type { AnyObject, Kind, ObjectOf } from '../core/index.js';
import { deepFreeze } from './deep-freeze.js';
import { ObjectMirror } from './object-mirror.js';
import type { SecretBox } from './secret-box.js';
import type { ListOptions, ListResult, NewObject, Store, TxnOp, TxnResult, WatchEvent, WatchOptions } from './store.js';
import { planTxn, shareEqualParts, type Change } from './txn-planner.js';
import { WatchHub, type PublishedChange } from './watch-hub.js';

export interface EtcdStoreOptions {
  /** Client URLs, https:// with `tls`. */
  endpoints: readonly string[];
  /** PEM: the CA that signed etcd's certificate, and this client's certificate and key (etcd's --client-cert-auth). */
  tls?: { ca: string; cert: string; key: string } | undefined;
  /**
   * The cluster's keys live under this prefix (default "/gantry/"): objects under `objects/`, the
   * leader key and node leases beside them (etcd-leader-lease.ts, etcd-node-leases.ts).
   */
  prefix?: string | undefined;
  /** Changes kept in memory for watches to resume from (default 100,000). */
  historyLimit?: number | undefined;
  /** A watch this many events behind is ended with EXPIRED (default 200,000). */
  maxWatchBuffer?: number | undefined;
  /** ... or holding this many bytes of unread changes (default 64 MiB). */
  maxWatchBytes?: number | undefined;
  /** etcd revisions kept when Gantry compacts etcd's history (default 100,000); 0: never compact. */
  compactKeep?: number | undefined;
  /** How often to compact (default 5 min). */
  compactEveryMs?: number | undefined;
  /** How long a write waits for the mirror to see it before failing UNAVAILABLE (default 10 s). */
  settleTimeoutMs?: number | undefined;
  /** How long to wait for etcd at open (default 10 s). */
  connectTimeoutMs?: number | undefined;
  now?: () => Date;
  /** Seals Secret data in etcd (secret-box.ts), as the SQLite store does on disk. */
  secretBox?: SecretBox | undefined;
}

const DEFAULT_PREFIX = '/gantry/';

// gRPC sets the TLS server name to the endpoint's host, an IP address for most etcd clusters, and
// Node warns about that (DEP0123) on every connection: noise on a server's stderr that nobody can
// act on. Only that warning is dropped.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const first = rest[0];
  const code = typeof first === 'object' && first !== null ? (first as { code?: string }).code : rest[1];
  if (code === 'DEP0123') return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
});
const DEFAULT_HISTORY_LIMIT = 100_000;
const DEFAULT_MAX_WATCH_BUFFER = 200_000;
const DEFAULT_COMPACT_KEEP = 100_000;
const DEFAULT_COMPACT_EVERY_MS = 5 * 60_000;
/**
 * How long one attempt of an etcd call may take. The client tries again on another member after a
 * recoverable failure (3 times), each attempt with a deadline of its own: a member killed mid-call
 * leaves its connection hanging, and without quorum etcd holds a write until it times out itself.
 */
export const ATTEMPT_DEADLINE_MS = 5_000;

/** The etcd3 client's options for `endpoints`: TLS with a client certificate, a deadline per attempt. */
export function etcdClientOptions(endpoints: readonly string[], tls: { ca: string; cert: string; key: string } | undefined, dialTimeoutMs = 10_000): IOptions {
  return {
    hosts: [...endpoints],
    dialTimeout: dialTimeoutMs,
    // A function: evaluated for every attempt, so a retry on another member gets a fresh deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ATTEMPT_DEADLINE_MS }),
    ...(tls ? { credentials: { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) } } : {}),
  };
}
/** A member's database file this big, and more than half free after a compaction, is defragmented. */
const DEFRAG_MIN_BYTES = 64 * 2 ** 20;
/** A transaction whose compares keep failing against newer writes gives up after this many plans. */
const MAX_ATTEMPTS = 8;

/** Opens the store: reads every object under the prefix, then follows the prefix from that revision. */
export async function openEtcdStore(opts: EtcdStoreOptions): Promise<EtcdStore> {
  const store = new EtcdStore(opts);
  try {
    await store.start();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/** The leader key and the create revision it had when this server won the lease. */
export interface Fence {
  key: string;
  createRevision: number;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
}

export class EtcdStore implements Store {
  readonly backend = 'etcd';
  private readonly client: Etcd3;
  /** Where the objects' keys start: `<cluster prefix>objects/`. */
  private readonly prefix: string;
  /** The cluster's prefix (the leader key and node leases live beside the objects). */
  readonly clusterPrefix: string;
  private mirror = new ObjectMirror();
  private hub: WatchHub;
  private revision = 0;
  private feed: EtcdWatcher | undefined;
  private readonly waiters = new Set<Waiter>();
  private compactTimer: NodeJS.Timeout | undefined;
  private compactedTo = 0;
  private closed = false;
  /** Set when the feed failed for good: writes and reads refuse with it. */
  private broken: Error | undefined;
  private readonly now: () => Date;
  private box: SecretBox | undefined;

  constructor(private readonly opts: EtcdStoreOptions) {
    this.box = opts.secretBox;
    if (opts.endpoints.length === 0) throw new InvalidError('no etcd endpoint given', [{ path: 'etcdEndpoints', message: 'give at least one, e.g. https://127.0.0.1:2379' }]);
    this.clusterPrefix = opts.prefix ?? DEFAULT_PREFIX;
    this.prefix = `${this.clusterPrefix}objects/`;
    this.now = opts.now ?? (() => new Date());
    this.client = new Etcd3(etcdClientOptions(opts.endpoints, opts.tls, opts.connectTimeoutMs));
    this.hub = this.newHub(0);
  }

  /** Where this store keeps its objects: "etcd https://a:2379,... /gantry/". */
  get path(): string {
    return `etcd ${this.opts.endpoints.join(',')} ${this.clusterPrefix}`;
  }

  private newHub(revision: number): WatchHub {
    return new WatchHub({
      revision,
      history: [],
      historyLimit: Math.max(1, Math.floor(this.opts.historyLimit ?? DEFAULT_HISTORY_LIMIT)),
      maxBuffered: this.opts.maxWatchBuffer ?? DEFAULT_MAX_WATCH_BUFFER,
      maxBufferedBytes: this.opts.maxWatchBytes,
    });
  }

  /** @internal openEtcdStore calls it once. */
  async start(): Promise<void> {
    const revision = await this.load();
    this.hub = this.newHub(revision);
    await this.follow(revision);
    const every = this.opts.compactEveryMs ?? DEFAULT_COMPACT_EVERY_MS;
    if ((this.opts.compactKeep ?? DEFAULT_COMPACT_KEEP) > 0) {
      this.compactTimer = setInterval(() => void this.compact().catch(() => undefined), every);
      this.compactTimer.unref();
    }
  }

  /** Reads every object under the prefix into an empty mirror; returns the revision read at. */
  private async load(): Promise<number> {
    const key = Buffer.from(this.prefix);
    const res = await this.call('read the objects', () => this.client.kv.range({ key, range_end: prefixEnd(key) }));
    for (const kv of res.kvs) this.mirror.set(deepFreeze(this.decode(kv)));
    this.revision = Number(res.header.revision);
    return this.revision;
  }

  /** One etcd watch on the prefix from after `revision`: every change reaches the mirror and the hub. */
  private async follow(revision: number): Promise<void> {
    const watcher = await this.call('watch the objects', () =>
      this.client.watch().prefix(this.prefix).startRevision(String(revision + 1)).create(),
    );
    this.feed = watcher;
    watcher.on('data', (res) => {
      try {
        this.take(res.events);
      } catch (e) {
        this.fail(e as Error);
      }
    });
    watcher.on('error', (err: Error) => void this.recover(err));
  }

  /** Applies one watch response: events in revision order, each revision's changes published together. */
  private take(events: readonly { type: unknown; kv: { key: Buffer; value: Buffer; mod_revision: string; create_revision: string } }[]): void {
    if (events.length === 0) return;
    const published: PublishedChange[] = [];
    for (const e of events) {
      const revision = Number(e.kv.mod_revision);
      if (revision <= this.revision) continue; // already seen (a resumed stream)
      const isDelete = e.type === 'Delete' || e.type === 1;
      if (isDelete) {
        const prev = this.prevOfKey(e.kv.key.toString());
        if (!prev) continue;
        this.mirror.delete(prev.kind, prev.metadata.namespace, prev.metadata.name);
        const object = deepFreeze<AnyObject>({ ...prev, metadata: { ...prev.metadata, revision } });
        published.push({ type: 'DELETED', revision, object, bytes: e.kv.key.length });
      } else {
        const fresh = this.decode(e.kv);
        const prev = this.mirror.get(fresh.kind, fresh.metadata.namespace, fresh.metadata.name);
        // Parts equal to the version it replaces are that version's (txn-planner.ts).
        const object = deepFreeze(prev ? (shareEqualParts(fresh, prev) as AnyObject) : fresh);
        this.mirror.set(object);
        published.push({ type: prev ? 'MODIFIED' : 'ADDED', revision, object, prev, bytes: e.kv.value.length });
      }
    }
    const last = published[published.length - 1];
    if (!last) return;
    // A revision's changes all come in one response (etcd never splits a revision without fragmenting).
    this.revision = last.revision;
    this.hub.publish(published);
    this.settle();
  }

  /** The mirror's object stored at an etcd key of this store. */
  private prevOfKey(key: string): AnyObject | undefined {
    const rest = key.slice(this.prefix.length).split('/');
    const [kind, ns, name] = rest;
    if (rest.length !== 3 || !kind || !name) return undefined;
    return this.mirror.get(kind as Kind, ns === '' ? undefined : ns, name);
  }

  /**
   * The feed ended (etcd compacted past it after a long disconnect, or it was cancelled): reload
   * everything and expire every watch, since the changes in between are unknown.
   */
  private async recover(err: Error): Promise<void> {
    if (this.closed) return;
    this.feed?.removeAllListeners();
    this.feed = undefined;
    try {
      this.mirror = new ObjectMirror();
      const revision = await this.load();
      this.hub.reset(revision, `the store's etcd watch was lost (${err.message}) and reloaded at revision ${revision}`);
      await this.follow(revision);
      this.settle();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    this.broken = new UnavailableError(`the etcd store stopped following etcd (${e.message}); restart the server`);
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
  }

  /** Resolves the writes waiting for the mirror. */
  private settle(): void {
    for (const w of this.waiters) {
      if (w.ready()) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private async until(ready: () => boolean, what: string): Promise<void> {
    if (ready()) return;
    const ms = this.opts.settleTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { ready, resolve };
        this.waiters.add(waiter);
        timer = setTimeout(() => reject(new UnavailableError(`etcd took the write but this server's copy did not see ${what} within ${ms} ms: is its watch on ${this.path} stuck?`)), ms);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) this.waiters.delete(waiter);
    }
    if (this.broken) throw this.broken;
  }

  /** The object a key-value holds (not frozen yet), its revision the key's mod_revision; Secrets opened when sealed. */
  private decode(kv: { key: Buffer; value: Buffer; mod_revision: string }): AnyObject {
    const stored = kv.value.toString();
    const kind = kv.key.toString().slice(this.prefix.length).split('/')[0] ?? '';
    const json = this.box ? this.box.open(kind, stored).json : stored;
    const object = JSON.parse(json) as AnyObject;
    object.metadata.revision = Number(kv.mod_revision);
    return object;
  }

  private encode(c: Change): Buffer {
    // The revision is the key's mod_revision; storing it would need to know it before the write.
    const { revision: _revision, ...metadata } = c.object.metadata;
    const json = JSON.stringify({ ...c.object, metadata });
    return Buffer.from(this.box ? this.box.seal(c.kind, json) : json);
  }

  private keyOf(kind: Kind, namespace: string | undefined, name: string): Buffer {
    return Buffer.from(`${this.prefix}${kind}/${namespace ?? ''}/${name}`);
  }

  async get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K> | undefined> {
    this.checkOpen();
    return this.mirror.get(kind, namespace, name) as ObjectOf<K> | undefined;
  }

  async list<K extends Kind>(kind: K, opts: ListOptions = {}): Promise<ListResult<ObjectOf<K>>> {
    this.checkOpen();
    return { items: this.mirror.list(kind, opts.namespace, opts.field) as ObjectOf<K>[], revision: this.revision };
  }

  /** The etcd client this store uses (the leader lease and node leases share its connection). */
  get etcd(): Etcd3 {
    return this.client;
  }

  /**
   * This store as the leader's controllers see it: every write also requires that the leader key
   * still has the create revision the lease was won at, so a server that lost the lease (and does
   * not know it yet) cannot write. Reads and watches are the store's own.
   */
  fenced(fence: Fence): Store {
    const apply = (ops: readonly TxnOp[]): Promise<TxnResult[]> => this.apply(ops, fence);
    const store: Store = {
      backend: this.backend,
      get: (kind, ns, name) => this.get(kind, ns, name),
      list: (kind, opts) => this.list(kind, opts),
      watch: (opts, signal) => this.watch(opts, signal),
      currentRevision: () => this.currentRevision(),
      close: async () => undefined,
      create: async <O extends AnyObject>(obj: NewObject<O>) => (await apply([{ op: 'create', object: obj }]))[0]?.object as O,
      update: async <O extends AnyObject>(obj: O) => (await apply([{ op: 'update', object: obj }]))[0]?.object as O,
      delete: async (kind, namespace, name, opts = {}) => ((await apply([{ op: 'delete', kind, namespace, name, revision: opts.revision }]))[0] as TxnResult).object,
      txn: apply,
    };
    return store;
  }

  async create<O extends AnyObject>(obj: NewObject<O>): Promise<O> {
    return (await this.apply([{ op: 'create', object: obj }]))[0]?.object as O;
  }

  async update<O extends AnyObject>(obj: O): Promise<O> {
    return (await this.apply([{ op: 'update', object: obj }]))[0]?.object as O;
  }

  async delete(kind: Kind, namespace: string | undefined, name: string, opts: { revision?: number } = {}): Promise<AnyObject> {
    return ((await this.apply([{ op: 'delete', kind, namespace, name, revision: opts.revision }]))[0] as TxnResult).object;
  }

  async txn(ops: readonly TxnOp[]): Promise<TxnResult[]> {
    return this.apply(ops);
  }

  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    return this.hub.watch(opts, signal);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.compactTimer);
    this.hub.close();
    this.feed?.removeAllListeners();
    await this.feed?.cancel().catch(() => undefined);
    this.client.close();
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
  }

  /**
   * Seals every Secret again with `box`'s primary key (key rotation; `box` holds the old keys too)
   * and uses it from now on: each Secret is rewritten in place by compare-and-swap. Other servers
   * need the new keyring before they read the rewritten Secrets (docs/ha.md). etcd's own history
   * keeps the old sealed values until it is compacted.
   */
  async resealSecrets(box: SecretBox): Promise<{ objects: number; history: number }> {
    this.checkOpen();
    this.box = box;
    let objects = 0;
    for (const secret of this.mirror.list('Secret')) {
      await this.update(secret).catch((e: unknown) => {
        if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e; // changed meanwhile: written with the new key already
      });
      objects++;
    }
    return { objects, history: 0 };
  }

  get watchCount(): number {
    return this.hub.watcherCount;
  }

  get historyBytes(): number {
    return this.hub.historyBytes;
  }

  /**
   * Compacts etcd's history to the last compactKeep revisions (etcd keeps every revision until
   * told). Watches of this store replay from memory, so they are not affected; a watch on etcd
   * itself from before the compaction fails as compacted.
   */
  async compact(): Promise<number | undefined> {
    const keep = this.opts.compactKeep ?? DEFAULT_COMPACT_KEEP;
    const to = this.revision - keep;
    if (keep <= 0 || to <= this.compactedTo) return undefined;
    await this.client.kv.compact({ revision: to, physical: false }).catch((e: Error) => {
      if (!/compacted/.test(e.message)) throw e;
    });
    this.compactedTo = to;
    await this.defragmentIfSparse();
    return to;
  }

  /**
   * Compaction frees pages inside etcd's database file but does not shrink it, and the quota counts
   * the file: when more than half of a member's file is free (and it is over 64 MiB), defragment
   * it. A defragmentation blocks that member for a moment; the others keep serving.
   */
  async defragmentIfSparse(): Promise<boolean> {
    const status = await this.client.maintenance.status();
    const size = Number(status.dbSize);
    const inUse = Number(status.dbSizeInUse || size);
    if (size < DEFRAG_MIN_BYTES || inUse * 2 > size) return false;
    await this.client.maintenance.defragment();
    return true;
  }

  /** Plan against the mirror, write as one etcd transaction guarded by each key's revision, wait for the mirror. */
  private async apply(ops: readonly TxnOp[], fence?: Fence): Promise<TxnResult[]> {
    this.checkOpen();
    if (ops.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      const changes = planTxn({ view: this.mirror, revision: this.revision, now: this.now().toISOString(), newUid: randomUUID }, ops);
      const keys = new Set<string>();
      const compare: ICompare[] = [];
      const success: IRequestOp[] = [];
      for (const c of changes) {
        const key = this.keyOf(c.kind, c.namespace, c.name);
        const id = key.toString();
        if (keys.has(id)) {
          throw new InvalidError(`the transaction changes ${c.kind.toLowerCase()} "${c.namespace ? `${c.namespace}/` : ''}${c.name}" twice; etcd allows one change per key in a transaction`, [
            { path: 'ops', message: 'change each object at most once per transaction' },
          ]);
        }
        keys.add(id);
        const prev = this.mirror.get(c.kind, c.namespace, c.name);
        compare.push(
          prev
            ? { key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: prev.metadata.revision }
            : { key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 },
        );
        success.push(c.type === 'DELETED' ? { request_delete_range: { key } } : { request_put: { key, value: this.encode(c) } });
      }
      // On failure, read the keys back: the mirror then waits until it has seen at least that.
      const failure: IRequestOp[] = [...keys].map((k) => ({ request_range: { key: Buffer.from(k), keys_only: true } }));
      if (fence) {
        const key = Buffer.from(fence.key);
        compare.push({ key, target: 'Create', result: 'Equal', create_revision: fence.createRevision });
        failure.push({ request_range: { key, keys_only: true } });
      }
      const res = await this.call('write', () => this.client.kv.txn({ compare, success, failure }));
      const revision = Number(res.header.revision);
      if (!res.succeeded && fence) {
        const held = res.responses[keys.size]?.response_range?.kvs?.[0]?.create_revision;
        if (held === undefined || Number(held) !== fence.createRevision) {
          throw new UnavailableError(`this server no longer holds the leader lease (${fence.key} was won at revision ${fence.createRevision}, now ${held ?? 'nobody holds it'}): its controllers stop; the new leader carries on`);
        }
      }
      if (res.succeeded) {
        await this.until(() => this.revision >= revision, `revision ${revision}`);
        return changes.map((c) => ({
          op: c.type === 'ADDED' ? 'create' : c.type === 'MODIFIED' ? 'update' : 'delete',
          object: deepFreeze<AnyObject>({ ...c.object, metadata: { ...c.object.metadata, revision } }),
        }));
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new ConflictError(`the transaction lost to concurrent writes ${attempt} times in a row; retry`);
      }
      // Wait until the mirror holds each key at least as new as etcd had it; the next plan then
      // fails as SQLite would (or succeeds, for a delete without a revision).
      const seen = res.responses.map((r) => r.response_range?.kvs?.[0]?.mod_revision).map((m) => (m === undefined ? undefined : Number(m)));
      const wanted = [...keys].map((k, i) => ({ k, mod: seen[i] }));
      await this.until(
        () => wanted.every(({ k, mod }) => {
          const held = this.prevOfKey(k);
          return mod === undefined ? held === undefined || held.metadata.revision < revision : (held?.metadata.revision ?? 0) >= mod;
        }),
        `the keys of a failed transaction at revision ${revision}`,
      );
    }
  }

  /** Runs an etcd call; transport failures become UNAVAILABLE with the endpoint and the fix. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (/database space exceeded|NOSPACE/i.test(msg)) {
        throw new UnavailableError(
          `etcd refuses writes: its database reached --quota-backend-bytes (NOSPACE alarm). Compact and defragment it (etcdctl compact, etcdctl defrag), raise the quota if needed, then etcdctl alarm disarm`,
        );
      }
      if (/too many operations in txn request/i.test(msg)) {
        throw new UnavailableError(`etcd refused a transaction of Gantry's as too large: start etcd with --max-txn-ops 2048 or more (docs/ha.md)`);
      }
      if (/request is too large/i.test(msg)) {
        throw new UnavailableError(`etcd refused a request as too large: start etcd with --max-request-bytes 33554432 or more (docs/ha.md)`);
      }
      throw new UnavailableError(`etcd at ${this.opts.endpoints.join(',')} did not ${what}: ${msg}`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new UnavailableError(`the store at ${this.path} is closed: open it again (openEtcdStore)`);
    if (this.broken) throw this.broken;
  }
}

/** The end of etcd's key range for every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
