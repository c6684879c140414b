// Lists in pages (`?limit=N`, then `?continue=TOKEN`), as Kubernetes' lists page: a page of 20,000
// instances never ships them all at once. The first page takes a snapshot of the selected items in
// key order (`namespace/name`) and keeps it for a while under a random id; later pages read the
// same snapshot, so pages never skip or repeat an object and every page says the snapshot's
// revision (watch from it after the last page, and nothing is missed). The token carries the id,
// the revision and the last key; a token whose snapshot is gone (expired, or another server) is
// answered 410 EXPIRED: list again from the first page.
import { randomBytes } from 'node:crypto';
import { ExpiredError, MalformedError, type AnyObject } from '../core/index.js';

/** The most a page may hold; a bigger limit is cut to it. */
export const MAX_PAGE = 5000;
/** A snapshot is kept this long after its last page was read. */
const SNAPSHOT_TTL_MS = 60_000;
/** Snapshots kept at once (oldest dropped first): each is an array of references, not copies. */
const MAX_SNAPSHOTS = 16;

interface Snapshot {
  items: readonly AnyObject[];
  revision: number;
  usedAt: number;
}

interface Token {
  id: string;
  revision: number;
  /** Index of the next item in the snapshot. */
  next: number;
  /** The page size asked for first: later pages keep it unless they give a limit. */
  size: number;
}

export interface Page {
  items: readonly AnyObject[];
  revision: number;
  /** Present when more pages follow. */
  continue?: string | undefined;
  /** Items left after this page. */
  remaining?: number | undefined;
}

const keyOf = (o: AnyObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class ListPages {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The first page of `items` (already selected), or the page `continueToken` names. */
  page(limit: number | undefined, continueToken: string | undefined, first: () => { items: readonly AnyObject[]; revision: number }): Page {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new MalformedError(`limit must be a whole number of at least 1 (at most ${MAX_PAGE}), not ${limit}`);
    let size = Math.min(limit ?? MAX_PAGE, MAX_PAGE);
    this.expire();
    let id: string;
    let snap: Snapshot;
    let from: number;
    if (continueToken === undefined) {
      const { items, revision } = first();
      id = randomBytes(9).toString('base64url');
      snap = { items: [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)), revision, usedAt: this.now() };
      from = 0;
    } else {
      const token = decode(continueToken);
      const found = this.snapshots.get(token.id);
      if (!found || found.revision !== token.revision) {
        throw new ExpiredError(`the list this continue token belongs to (revision ${token.revision}) is no longer kept (pages live ${SNAPSHOT_TTL_MS / 1000} s, on the server that served the first page): list again from the first page`);
      }
      id = token.id;
      snap = found;
      from = token.next;
      if (limit === undefined) size = token.size;
    }
    const items = snap.items.slice(from, from + size);
    const next = from + items.length;
    if (next >= snap.items.length) {
      this.snapshots.delete(id);
      return { items, revision: snap.revision };
    }
    snap.usedAt = this.now();
    this.snapshots.set(id, snap);
    while (this.snapshots.size > MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value as string);
    return { items, revision: snap.revision, continue: encode({ id, revision: snap.revision, next, size }), remaining: snap.items.length - next };
  }

  private expire(): void {
    const now = this.now();
    for (const [id, s] of this.snapshots) if (now - s.usedAt > SNAPSHOT_TTL_MS) this.snapshots.delete(id);
  }
}

function encode(t: Token): string {
  return Buffer.from(JSON.stringify([t.id, t.revision, t.next, t.size])).toString('base64url');
}

function decode(text: string): Token {
  try {
    const [id, revision, next, size] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const whole = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
    if (typeof id === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(id) && whole(revision) && whole(next) && whole(size) && size >= 1 && size <= MAX_PAGE) {
      return { id, revision, next, size };
    }
  } catch {
    // fall through
  }
  throw new MalformedError('continue must be the token of the previous page (metadata.continue), unchanged');
}

