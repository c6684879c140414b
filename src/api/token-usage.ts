// When a person's token was last used (`status.lastUsedAt`), written at most once per interval per
// token on each server, off the request path: a stale token shows in `gantry token list` without a
// store write per request. Node credentials are left out (their heartbeats say when they were last
// heard from, and 10,000 of them would make a write storm at every start).
import type { Logger } from 'pino';
import { describeError, type Token } from '../core/index.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';
import type { Store } from '../store/store.js';

export const LAST_USED_INTERVAL_MS = 60 * 60_000;

export interface TokenUsageOptions {
  store: Store;
  logger?: Logger | undefined;
  now?: (() => Date) | undefined;
  /** Default one hour: how stale `lastUsedAt` may be. */
  intervalMs?: number | undefined;
}

export class TokenUsage {
  /** Token id -> when this server last wrote (or began writing) its lastUsedAt. */
  private readonly written = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => Date;
  private readonly interval: number;

  constructor(private readonly opts: TokenUsageOptions) {
    this.now = opts.now ?? (() => new Date());
    this.interval = opts.intervalMs ?? LAST_USED_INTERVAL_MS;
  }

  /** Notes a successful authentication with `t`; may start one write, never waits for it. */
  used(t: Token): void {
    if (t.spec.type !== 'user') return;
    const now = this.now();
    const at = now.getTime();
    const id = t.metadata.name;
    const stored = t.status?.lastUsedAt ? Date.parse(t.status.lastUsedAt) : Number.NaN;
    if (at - (Number.isNaN(stored) ? -Infinity : stored) < this.interval) return;
    if (at - (this.written.get(id) ?? -Infinity) < this.interval) return;
    this.written.set(id, at);
    const write = this.write(id, now.toISOString()).finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** Resolves when the writes started so far are done (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async write(id: string, when: string): Promise<void> {
    try {
      await retryOnConflict(async () => {
        const t = await this.opts.store.get('Token', undefined, id);
        if (!t || t.status?.revokedAt || (t.status?.lastUsedAt ?? '') >= when) return;
        await this.opts.store.update<Token>({ ...t, status: { ...t.status, lastUsedAt: when } });
      });
    } catch (e) {
      // Bookkeeping only: the request it came from was served; try again after the interval.
      this.opts.logger?.debug({ token: id, err: describeError(e) }, 'could not record when a token was last used');
    }
  }
}
