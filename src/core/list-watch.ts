// ListWatch: what an informer needs from a source of objects (list one kind at a revision, then
// watch it from that revision). The Store implements it in the server and the HTTP client
// implements it everywhere else, so the controllers, the agents, the CLI and the simulator all
// follow objects with the one Informer of src/runtime.
import type { AnyObject, Kind, ObjectOf } from './schema.js';

/** The spec fields a store indexes for lists and watches (see FieldSelector). */
export type FieldPath = 'spec.node' | 'spec.service';

/**
 * Selects objects whose field `path` equals `value`; `value: undefined` selects objects without
 * the field (e.g. unbound instances). Served from an index: cost follows the matching objects,
 * not the whole kind.
 *
 * In a watch, an object is judged before and after each change, as Kubernetes does for selectors:
 * - it matches before and after (or is created / deleted while matching): the event as is;
 * - a MODIFIED moves it into the selection (an instance bound to the node): ADDED, new object;
 * - a MODIFIED moves it out (an instance moved elsewhere): DELETED at the change's revision,
 *   carrying the object with its indexed fields (spec.node, spec.service) as they were before the
 *   change, so it still matches the selector.
 * Changes that never touch the selection are not delivered at all. Backends that cannot tell
 * the previous value (the first change of an object in history reloaded from disk) judge by the
 * new object only.
 */
export interface FieldSelector {
  path: FieldPath;
  value: string | undefined;
}

export interface ListWatchOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string | undefined;
  /**
   * Only objects whose field matches (see FieldSelector). Items come in the order they took the
   * value, not necessarily creation order.
   */
  field?: FieldSelector | undefined;
}

export interface ListResult<O extends AnyObject = AnyObject> {
  items: O[];
  /** The revision the list is consistent with: watch from here to follow it. */
  revision: number;
}

/**
 * One line of a watch. BOOKMARKs (only over HTTP: the server sends one every 10 s) carry no
 * object and only move the resume point forward.
 */
export type ListWatchEvent<O extends AnyObject = AnyObject> =
  | {
      type: 'ADDED' | 'MODIFIED' | 'DELETED';
      /** For DELETED: the object as it was last stored, with metadata.revision set to the delete's revision. */
      object: O;
      revision: number;
    }
  | { type: 'BOOKMARK'; revision: number; object?: undefined };

export interface KindWatchOptions extends ListWatchOptions {
  kind: Kind;
  /** Deliver changes with revision > fromRevision (replayed from history first). Absent: from now. */
  fromRevision?: number | undefined;
  /**
   * Over the API (`?omitStatusChanges=1`): leave out MODIFIED events that changed only the
   * object's status, where the server's store can tell (WatchEvent.statusOnly); BOOKMARKs move
   * past them. For an agent, whose own reports would otherwise all come back to it. A Store
   * source ignores it and delivers every change.
   */
  omitStatusChanges?: boolean | undefined;
}

export interface ListWatch {
  list<K extends Kind>(kind: K, opts?: ListWatchOptions): Promise<ListResult<ObjectOf<K>>>;
  /**
   * Changes in revision order until `signal` aborts (the iterator then ends without error).
   * Throws AppError('EXPIRED') when fromRevision is older than the history kept: list again then.
   * Other errors and a stream that ends on its own mean: resume from the last revision seen.
   */
  watch(opts: KindWatchOptions, signal: AbortSignal): AsyncIterable<ListWatchEvent>;
}
