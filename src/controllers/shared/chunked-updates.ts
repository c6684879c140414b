// Many compare-and-swap updates as few store transactions. When a rack dies, hundreds of nodes
// and thousands of instances change at once; one write each would be thousands of SQLite
// transactions (and as many watch events, each its own wake-up) in one pass of the node controller.
import { isAppError, type AnyObject } from '../../core/index.js';
import type { Store } from '../../store/store.js';

/** The most ops in one store transaction (a thousand held the loop for over 100 ms on a busy machine). */
export const MAX_UPDATES_PER_TXN = 250;

/** A chunk that keeps losing races after this many re-reads is left for the next pass. */
const ATTEMPTS = 3;

export interface ChunkedOutcome<O extends AnyObject> {
  /** As stored. */
  written: O[];
  /** Changed by someone else since the caller read it: not written; look again later. */
  changed: O[];
  /** Deleted since the caller read it. */
  gone: O[];
}

/**
 * CAS-updates each object (its metadata.revision is the one read) in txns of at most `maxOps`.
 * A transaction is all or nothing, so a chunk that loses a race re-reads its objects, sets aside
 * those that changed or went away, and retries with the rest: one concurrent write costs a retry,
 * not the whole batch. Chunks after the first wait for the event loop, so requests get a turn.
 */
export async function updateInChunks<O extends AnyObject>(store: Store, updates: readonly O[], maxOps = MAX_UPDATES_PER_TXN): Promise<ChunkedOutcome<O>> {
  const out: ChunkedOutcome<O> = { written: [], changed: [], gone: [] };
  for (let start = 0; start < updates.length; start += maxOps) {
    if (start > 0) await new Promise((r) => setImmediate(r));
    let todo = updates.slice(start, start + maxOps);
    for (let attempt = 1; todo.length > 0; attempt++) {
      try {
        const results = await store.txn(todo.map((object) => ({ op: 'update', object })));
        out.written.push(...results.map((r) => r.object as O));
        break;
      } catch (err) {
        if (!isAppError(err, 'CONFLICT') && !isAppError(err, 'NOT_FOUND')) throw err;
        if (attempt >= ATTEMPTS) {
          out.changed.push(...todo);
          break;
        }
        todo = await setAsideStale(store, todo, out);
      }
    }
  }
  return out;
}

/** The objects still at the revision they were read at; the others go to `changed` or `gone`. */
async function setAsideStale<O extends AnyObject>(store: Store, todo: readonly O[], out: ChunkedOutcome<O>): Promise<O[]> {
  const current = await Promise.all(todo.map((o) => store.get(o.kind, o.metadata.namespace, o.metadata.name)));
  const keep: O[] = [];
  todo.forEach((o, i) => {
    const now = current[i];
    if (!now) out.gone.push(o);
    else if (now.metadata.revision !== o.metadata.revision) out.changed.push(o);
    else keep.push(o);
  });
  return keep;
}
