import { afterEach, describe, expect, it } from 'vitest';
import type { Token } from '../core/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { issueToken } from './token-issue.js';
import { TokenUsage } from './token-usage.js';

let store: SqliteStore;
afterEach(() => store?.close());

async function stored(spec: Parameters<typeof issueToken>[0]): Promise<Token> {
  return store.create<Token>(issueToken(spec).manifest);
}

describe('TokenUsage', () => {
  it("writes a person's token's lastUsedAt once per interval, not once per request", async () => {
    store = openSqliteStore(':memory:');
    let now = new Date('2026-12-05T10:00:00Z');
    const usage = new TokenUsage({ store, now: () => now, intervalMs: 3_600_000 });
    const t = await stored({ type: 'user', user: 'alice', role: 'view', namespaces: ['*'] });
    for (let i = 0; i < 20; i++) usage.used(t);
    await usage.settled();
    const first = await store.get('Token', undefined, t.metadata.name);
    expect(first?.status?.lastUsedAt).toBe('2026-12-05T10:00:00.000Z');
    expect(first?.metadata.revision).toBe(t.metadata.revision + 1);
    // Within the interval: no write, whether the mirror's copy is old or new.
    now = new Date('2026-12-05T10:59:00Z');
    usage.used(t);
    usage.used(first!);
    await usage.settled();
    expect((await store.get('Token', undefined, t.metadata.name))?.metadata.revision).toBe(first?.metadata.revision);
    // After it: one more.
    now = new Date('2026-12-05T11:00:01Z');
    usage.used(first!);
    await usage.settled();
    expect((await store.get('Token', undefined, t.metadata.name))?.status?.lastUsedAt).toBe('2026-12-05T11:00:01.000Z');
  });

  it('leaves node credentials and revoked tokens alone', async () => {
    store = openSqliteStore(':memory:');
    const usage = new TokenUsage({ store });
    const node = await stored({ type: 'node', node: 'n1', address: '127.0.0.1', agentPort: 7071 });
    usage.used(node);
    const person = await stored({ type: 'user', user: 'bob', role: 'edit', namespaces: ['a'] });
    const revoked = await store.update<Token>({ ...person, status: { revokedAt: new Date().toISOString() } });
    usage.used(person);
    await usage.settled();
    expect((await store.get('Token', undefined, node.metadata.name))?.status?.lastUsedAt).toBeUndefined();
    expect((await store.get('Token', undefined, person.metadata.name))?.metadata.revision).toBe(revoked.metadata.revision);
  });
});
