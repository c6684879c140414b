// The Token objects in memory, so that authenticating a request is a synchronous map lookup. An
// informer over the store keeps the mirror level with it (tokens made or revoked through another
// server arrive by watch); the token routes also note their own writes at once, so a revoke
// applies to the very next request. A note never goes back in revisions: a watch event older than
// what was noted is ignored.
import type { Logger } from 'pino';
import type { Token } from '../core/index.js';
import { Informer } from '../runtime/informer.js';
import type { Store } from '../store/store.js';

export class TokenMirror {
  private readonly byId = new Map<string, Token>();
  private readonly informer: Informer<'Token'>;

  constructor(store: Store, logger?: Logger) {
    this.informer = new Informer({ source: store, kind: 'Token', logger });
    this.informer.addHandlers({
      onAdd: (t) => this.note(t),
      onUpdate: (_old, t) => this.note(t),
      onDelete: (t) => this.forget(t.metadata.name),
    });
  }

  /** Resolves once the first list is in the mirror. */
  get synced(): Promise<void> {
    return this.informer.synced;
  }

  /** Follows the store until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return this.informer.run(signal);
  }

  get(id: string): Token | undefined {
    return this.byId.get(id);
  }

  list(): Token[] {
    return [...this.byId.values()];
  }

  /** Takes a token as written; keeps the newer of it and what the mirror holds. */
  note(t: Token): void {
    const held = this.byId.get(t.metadata.name);
    if (held && held.metadata.revision > t.metadata.revision) return;
    this.byId.set(t.metadata.name, t);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}
