// The write-ahead log is checkpointed by a worker thread, off the event loop (wal-checkpointer.ts):
// the log is copied into the database file while the store keeps writing, and nothing is lost.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Service } from '../core/index.js';
import { aService } from '../core/test-builders.js';
import { openSqliteStore } from './sqlite-store.js';
import { WalCheckpointer, type CheckpointResult } from './wal-checkpointer.js';

const until = async (ok: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('WAL checkpoints off the event loop', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-wal-'));
    file = join(dir, 'state.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies what the store wrote into the database file while the store stays open, and loses nothing', async () => {
    const store = openSqliteStore(file);
    for (let i = 0; i < 20; i++) {
      await store.txn(Array.from({ length: 50 }, (_, k) => ({ op: 'create' as const, object: aService(`web-${i}-${k}`) })));
    }
    await until(() => store.walCheckpoints > 0, 5000, 'a checkpoint by the worker');
    // The database file itself (not only the log) holds the services now: a copy of the file
    // alone, without its log, has them.
    const copy = join(dir, 'file-only.db');
    copyFileSync(file, copy);
    const onDisk = new Database(copy, { readonly: true });
    try {
      expect((onDisk.prepare("SELECT count(*) AS n FROM objects WHERE kind = 'Service'").get() as { n: number }).n).toBe(1000);
    } finally {
      onDisk.close();
    }
    const before = await store.list('Service');
    await store.close();
    const again = openSqliteStore(file);
    try {
      expect(await again.list('Service')).toEqual(before);
    } finally {
      await again.close();
    }
  });

  it('reports each checkpoint, and stops when asked', async () => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 200; i++) insert.run('x'.repeat(4000));
    const results: CheckpointResult[] = [];
    const checkpointer = new WalCheckpointer({ path: file, intervalMs: 20, onCheckpoint: (r) => results.push(r) });
    await until(() => results.some((r) => !r.busy && r.logPages > 0 && r.logPages === r.checkpointedPages), 5000, 'a complete checkpoint');
    await checkpointer.stop();
    const seen = results.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(results.length).toBe(seen);
    // The writer restarts the log once all of it is in the file: the next write lands at its start.
    insert.run('y');
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect((db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]?.log).toBe(1);
    db.close();
  });

  it('is not started for a store in memory', async () => {
    const store = openSqliteStore(':memory:');
    await store.create<Service>(aService('web'));
    await new Promise((r) => setTimeout(r, 300));
    expect(store.walCheckpoints).toBe(0);
    await store.close();
  });
});
