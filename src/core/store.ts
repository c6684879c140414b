// The Store interface (docs/architecture.md, "Store"): Kubernetes' storage model. Objects keyed by
// kind/namespace/name; one global revision that grows with every transaction (all changes of one
// transaction share it, as in etcd); compare-and-swap updates; list at a revision; watch from a
// revision. Backends: src/store/sqlite-store (embedded default) and src/store/etcd-store (several
// servers, docs/ha.md), behind this same interface, so every method is async. A reader that
// resumes a watch resumes from the revision before the last change it saw (the rest of that
// transaction may not have reached it), and skips what it holds already (runtime/informer.ts).
// Declared here, in core, so that the runtime kit and the controllers depend on the interface and
// only the composition root picks a backend; src/store/store.ts re-exports it.
import type { FieldSelector, ListResult, ListWatch, ListWatchOptions } from './list-watch.js';
import type { AnyObject, Kind, ObjectMeta, ObjectOf } from './schema.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<O extends AnyObject = AnyObject> {
  type: WatchEventType;
  /** For DELETED: the object as it was last stored, with metadata.revision set to the delete's revision. */
  object: O;
  /** The store revision of this change. */
  revision: number;
  /**
   * On a MODIFIED that replaced the object's status and nothing else (spec, data and metadata
   * apart from the revision unchanged), where the store can tell cheaply: both stores give a new
   * version the unchanged parts of the one before (shareEqualParts), so the hub compares references.
   * Absent: not known; a reader treats the change like any other.
   */
  statusOnly?: true | undefined;
}

/** An object before the store has given it uid, revision and createdAt. */
export type NewObject<O extends AnyObject = AnyObject> = Omit<O, 'metadata'> & { metadata: ObjectMeta };

export type { FieldPath, FieldSelector, ListResult } from './list-watch.js';

/** What a list selects: a namespace and a field (see FieldSelector). */
export type ListOptions = ListWatchOptions;

export interface WatchOptions {
  /** Only this kind; every kind when absent. */
  kind?: Kind | undefined;
  namespace?: string | undefined;
  /** Deliver changes with revision > fromRevision (replayed from history first). Absent: from now. */
  fromRevision?: number | undefined;
  /** Only changes that concern objects selected by this field, with enter/leave as ADDED/DELETED (see FieldSelector). */
  field?: FieldSelector | undefined;
}

export type TxnOp =
  | { op: 'create'; object: NewObject }
  /** Compare-and-swap: object.metadata.revision must equal the stored revision. */
  | { op: 'update'; object: AnyObject }
  | { op: 'delete'; kind: Kind; namespace: string | undefined; name: string; revision?: number | undefined };

export type TxnResult = { op: 'create' | 'update' | 'delete'; object: AnyObject };

export interface Store extends ListWatch {
  readonly backend: string;
  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Promise<ObjectOf<K> | undefined>;
  list<K extends Kind>(kind: K, opts?: ListOptions): Promise<ListResult<ObjectOf<K>>>;
  /** Throws ConflictError (409) when the object exists. Assigns uid, revision, createdAt. */
  create<O extends AnyObject>(obj: NewObject<O>): Promise<O>;
  /** Compare-and-swap on metadata.revision: StaleRevisionError (a ConflictError) when stale, NotFoundError when gone. */
  update<O extends AnyObject>(obj: O): Promise<O>;
  /** With `revision`, deletes only if it still matches. Returns the deleted object. */
  delete(kind: Kind, namespace: string | undefined, name: string, opts?: { revision?: number }): Promise<AnyObject>;
  /**
   * All ops or none, in order, at one new revision (later ops see earlier ones); the first failure
   * throws and nothing is written. On etcd an object may appear only once per transaction.
   */
  txn(ops: readonly TxnOp[]): Promise<TxnResult[]>;
  /**
   * As txn, but where the backend writes synchronously (SQLite) the txn runs at once, ahead of
   * writes waiting for a later event-loop turn (the turn budget): checks the caller made against
   * state it read in this same tick still hold when the txn commits. Only for such a caller (the
   * scheduler binding what it has just checked against node capacity and cordons). Absent where
   * writes are remote (etcd): there the gap exists anyway and callers use txn.
   */
  txnNow?(ops: readonly TxnOp[]): Promise<TxnResult[]>;
  /**
   * Changes in revision order, until `signal` aborts (the iterator then ends without error).
   * Throws ExpiredError when fromRevision is older than the history kept: relist then.
   */
  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}
