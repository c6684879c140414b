// Read your writes across servers (docs/ha.md): with several servers on etcd, a client may write
// through one and read through another whose copy of the store has not seen that write yet (it
// arrives on its etcd watch a few milliseconds later). Every answer says the revision this
// server's copy has reached (`Gantry-Revision`); a client sends the highest it has seen
// (`Gantry-Min-Revision`) with its reads, and a read waits until this server has caught up, for at
// most `waitMs`, then fails with 504 (BehindError) saying so. On one SQLite server the copy is
// always current: nothing ever waits.
import type { FastifyInstance } from 'fastify';
import { BehindError, MalformedError } from '../core/index.js';
import type { Store } from '../store/store.js';

export const REVISION_HEADER = 'gantry-revision';
export const MIN_REVISION_HEADER = 'gantry-min-revision';

export interface ReadYourWritesOptions {
  /** How long a read waits for this server's copy (default 5 s). */
  waitMs?: number | undefined;
  /** How often it looks again meanwhile (default 10 ms). */
  pollMs?: number | undefined;
}

export function registerReadYourWrites(app: FastifyInstance, store: Store, opts: ReadYourWritesOptions = {}): void {
  const waitMs = opts.waitMs ?? 5000;
  const pollMs = opts.pollMs ?? 10;
  app.addHook('onRequest', async (req) => {
    const raw = req.headers[MIN_REVISION_HEADER];
    if (raw === undefined || req.method !== 'GET') return;
    if (typeof raw !== 'string' || !/^[0-9]{1,15}$/.test(raw)) {
      throw new MalformedError(`header Gantry-Min-Revision must be a store revision (digits), not "${String(raw).slice(0, 32)}"`);
    }
    const wanted = Number(raw);
    const deadline = Date.now() + waitMs;
    for (let at = await store.currentRevision(); at < wanted; at = await store.currentRevision()) {
      if (Date.now() >= deadline) {
        throw new BehindError(
          `this server's copy of the store is at revision ${at}, behind revision ${wanted} that your client has seen (a write through another server), after waiting ${waitMs} ms: retry, or use another server`,
        );
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader(REVISION_HEADER)) reply.header(REVISION_HEADER, String(await store.currentRevision()));
    return payload;
  });
}
