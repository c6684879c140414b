import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Service } from '../core/index.js';
import { aService } from '../core/test-builders.js';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.js';
import { openSqliteStore } from './sqlite-store.js';
import { BACKSTOP_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES, WalCheckpointer } from './wal-checkpointer.js';

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The services in the database file alone, as a reader without the WAL would find them. */
function servicesInMainFile(file: string, dir: string): number {
  const copy = join(dir, 'main-only.db');
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    // Not even the schema when nothing was checkpointed.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'objects'").get()) return 0;
    return (db.prepare("SELECT count(*) AS n FROM objects WHERE kind = 'Service'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('background WAL checkpoints', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-wal-'));
    file = join(dir, 'state.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies commits into the database file from a worker, well before the writer would', async () => {
    const store = openSqliteStore(file, { backgroundCheckpoints: true, checkpointIntervalMs: 20 });
    try {
      // 50 small commits: far below the 1,000 pages at which SQLite's writer checkpoints itself.
      for (let i = 0; i < 50; i++) await store.create<Service>(aService(`web-${i}`));
      const checkpointsThen = store.backgroundCheckpoints ?? 0;
      await until(() => (store.backgroundCheckpoints ?? 0) > checkpointsThen + 1);
      expect(servicesInMainFile(file, dir)).toBe(50);
    } finally {
      await store.close();
    }
    // The writer's close was the last: it checkpointed the rest and removed the WAL.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('rebuilds the file at a key rotation while checkpointing, then checkpoints again', async () => {
    const k1 = { id: 'k1', key: randomBytes(32) };
    const store = openSqliteStore(file, { backgroundCheckpoints: true, checkpointIntervalMs: 1, secretBox: new SecretBox([k1]) });
    try {
      for (let i = 0; i < 50; i++) await store.create<Service>(aService(`web-${i}`));
      await until(() => (store.backgroundCheckpoints ?? 0) > 5);
      // With a checkpoint every millisecond, the rebuild's TRUNCATE would meet one in progress.
      for (let round = 0; round < 5; round++) {
        const r = await store.resealSecrets(new SecretBox([{ id: `k${round + 2}`, key: randomBytes(32) }, k1]));
        expect(r).toMatchObject({ rebuilt: true });
      }
      await store.create<Service>(aService('after'));
      await until(() => (store.backgroundCheckpoints ?? 0) > 1);
      expect(servicesInMainFile(file, dir)).toBe(51);
    } finally {
      await store.close();
    }
  });

  it('leaves the WAL to SQLite without the option', async () => {
    const store = openSqliteStore(file);
    try {
      for (let i = 0; i < 50; i++) await store.create<Service>(aService(`web-${i}`));
      await new Promise((r) => setTimeout(r, 100));
      expect(store.backgroundCheckpoints).toBeUndefined();
      expect(servicesInMainFile(file, dir)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('moves the writer to the backstop threshold while it runs, and back when it stops', async () => {
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    const set: number[] = [];
    const c = new WalCheckpointer(file, (pages) => set.push(pages), { intervalMs: 20 });
    await until(() => c.checkpoints > 0);
    expect(c.last).toMatchObject({ busy: 0 });
    await c.stop();
    await c.stop(); // idempotent
    expect(set).toEqual([BACKSTOP_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES]);
    writer.close();
  });

  it('says so, and gives checkpoints back to the writer, when the worker fails', async () => {
    const problems: string[] = [];
    const set: number[] = [];
    const c = new WalCheckpointer(join(dir, 'missing.db'), (pages) => set.push(pages), { onProblem: (m) => problems.push(m) });
    await until(() => set.length === 2);
    expect(set).toEqual([BACKSTOP_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES]);
    // Said once, with SQLite's reason.
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^the WAL checkpoint worker failed: .*(SQLITE_CANTOPEN|unable to open).*; the writer checkpoints itself again$/);
    await c.stop();
  });
});
