import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type Manifest, type Service } from '../core/index.js';
import { backupSqlite, restoreSqlite } from './backup.js';
import { CLOSE_HISTORY_MS, openSqliteStore } from './sqlite-store.js';
import { aNamespace, range, readUntil, revisionsOf, withReplicas } from './test-helpers.js';
import { aNode, aService } from '../core/test-builders.js';

describe('SqliteStore on disk', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-store-'));
    file = join(dir, 'gantry.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores objects, revision and history when reopened', async () => {
    const first = openSqliteStore(file);
    const web = await first.create<Service>(aService('web'));
    await first.update(withReplicas(web, 3));
    await first.create(aNode('n1'));
    await first.txn([
      { op: 'create', object: aNamespace('default') },
      { op: 'delete', kind: 'Node', namespace: undefined, name: 'n1' },
    ]);
    const before = { services: await first.list('Service'), namespaces: await first.list('Namespace') };
    await first.close();

    const again = openSqliteStore(file);
    try {
      expect(await again.currentRevision()).toBe(4);
      expect(await again.list('Service')).toEqual(before.services);
      expect(await again.list('Namespace')).toEqual(before.namespaces);
      expect(await again.get('Node', undefined, 'n1')).toBeUndefined();
      expect(Object.isFrozen((await again.get('Service', 'default', 'web'))?.spec)).toBe(true);

      const history = await readUntil(again.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 4);
      expect(history.map((e) => [e.revision, e.type, e.object.kind])).toEqual([
        [1, 'ADDED', 'Service'],
        [2, 'MODIFIED', 'Service'],
        [3, 'ADDED', 'Node'],
        [4, 'ADDED', 'Namespace'],
        [4, 'DELETED', 'Node'],
      ]);
      const next = await again.update(withReplicas((await again.get('Service', 'default', 'web')) as Service, 1));
      expect(next.metadata.revision).toBe(5);
    } finally {
      await again.close();
    }
  });

  it('uses WAL mode and trims the history on disk to historyLimit', async () => {
    const store = openSqliteStore(file, { historyLimit: 3 });
    for (let i = 0; i < 10; i++) await store.create<Service>(aService(`s${i}`));
    await store.close();

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT revision FROM history ORDER BY revision').pluck().all()).toEqual([8, 9, 10]);
      expect(raw.prepare('SELECT count(*) FROM objects').pluck().get()).toBe(10);
    } finally {
      raw.close();
    }

    const reopened = openSqliteStore(file, { historyLimit: 3 });
    try {
      await expect(readUntil(reopened.watch({ fromRevision: 6 }, AbortSignal.timeout(5_000)), 10)).rejects.toThrow(/list again/);
      const tail = await readUntil(reopened.watch({ fromRevision: 7 }, AbortSignal.timeout(5_000)), 10);
      expect(revisionsOf(tail)).toEqual(range(8, 10));
    } finally {
      await reopened.close();
    }
  });

  it('bounds the history by bytes as well as by count, in memory and on disk, keeping the newest change', async () => {
    const big = (name: string, kib: number): Manifest =>
      ({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name, namespace: 'default' }, spec: { data: { blob: 'x'.repeat(kib * 1024) } } });
    const store = openSqliteStore(file, { historyLimit: 1000, historyMaxBytes: 10 * 1024 });
    for (let i = 1; i <= 10; i++) await store.create(big(`c${i}`, 3));
    // 3 KiB each: at most 3 fit in 10 KiB.
    expect(store.historyBytes).toBeLessThanOrEqual(10 * 1024);
    // While open, commits write objects alone: the file's history is written at close, and
    // marked stale until then.
    const live = new Database(file, { readonly: true });
    try {
      expect(live.prepare('SELECT count(*) FROM history').pluck().get()).toBe(0);
      expect(live.prepare("SELECT value FROM meta WHERE key = 'history_through'").pluck().get()).toBe(-1);
    } finally {
      live.close();
    }
    expect(store.historyBytes).toBeGreaterThan(6 * 1024);
    await expect(readUntil(store.watch({ fromRevision: 6 }, AbortSignal.timeout(5_000)), 10)).rejects.toThrow(/list again/);
    expect(revisionsOf(await readUntil(store.watch({ fromRevision: 7 }, AbortSignal.timeout(5_000)), 10))).toEqual(range(8, 10));
    // One change larger than the bound is still kept: a watch can always resume from the last revision.
    await store.create(big('huge', 20));
    expect(store.historyBytes).toBeGreaterThan(20 * 1024);
    await store.close();

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT revision FROM history ORDER BY revision').pluck().all()).toEqual([11]);
    } finally {
      raw.close();
    }
    const reopened = openSqliteStore(file, { historyLimit: 1000, historyMaxBytes: 10 * 1024 });
    try {
      expect(reopened.historyBytes).toBeGreaterThan(20 * 1024);
      await expect(readUntil(reopened.watch({ fromRevision: 9 }, AbortSignal.timeout(5_000)), 11)).rejects.toThrow(/list again/);
    } finally {
      await reopened.close();
    }
  });

  it('moves a state file of schema 1 (a revision per change) to schema 3 (a revision per transaction, history written at close) at open', async () => {
    // What a Gantry before the etcd work wrote: history keyed by revision.
    const old = new Database(file);
    const web = { apiVersion: 'gantry/v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'u1', revision: 1, createdAt: '2026-01-01T00:00:00.000Z' }, spec: { replicas: 1, containers: [{ name: 'main', image: 'busybox:1.36' }] } };
    const web2 = { ...web, metadata: { ...web.metadata, revision: 2 }, spec: { ...web.spec, replicas: 2 } };
    old.exec(`
      CREATE TABLE objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, data JSON NOT NULL, PRIMARY KEY (kind, namespace, name));
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE history (revision INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, data JSON NOT NULL);
      INSERT INTO meta (key, value) VALUES ('revision', 2), ('schema_version', 1);
    `);
    old.prepare('INSERT INTO objects VALUES (?, ?, ?, ?, ?)').run('Service', 'default', 'web', 2, JSON.stringify(web2));
    old.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)').run(1, 'ADDED', 'Service', 'default', 'web', JSON.stringify(web));
    old.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)').run(2, 'MODIFIED', 'Service', 'default', 'web', JSON.stringify(web2));
    old.close();

    const store = openSqliteStore(file);
    try {
      expect((await store.get('Service', 'default', 'web'))?.spec.replicas).toBe(2);
      const history = await readUntil(store.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 2);
      expect(history.map((e) => [e.revision, e.type])).toEqual([
        [1, 'ADDED'],
        [2, 'MODIFIED'],
      ]);
      const results = await store.txn([
        { op: 'create', object: aService('a') },
        { op: 'create', object: aService('b') },
      ]);
      expect(results.map((r) => r.object.metadata.revision)).toEqual([3, 3]);
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: 3 });
    expect(check.prepare('SELECT count(*) AS n FROM history WHERE revision = 3').get()).toEqual({ n: 2 });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'history_through'").get()).toEqual({ value: 3 });
    check.close();
  });

  it('keeps a schema 2 file\'s history, which it wrote with every commit, and resumes watches from it', async () => {
    const v2 = openSqliteStore(file);
    await v2.create<Service>(aService('a'));
    await v2.create<Service>(aService('b'));
    await v2.close();
    // As schema 2 left it: the same rows, no history_through.
    const raw = new Database(file);
    raw.exec("DELETE FROM meta WHERE key = 'history_through'; UPDATE meta SET value = 2 WHERE key = 'schema_version';");
    raw.close();
    const store = openSqliteStore(file);
    try {
      expect(revisionsOf(await readUntil(store.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 2))).toEqual([1, 2]);
    } finally {
      await store.close();
    }
  });

  it('writes at close only the history of the last CLOSE_HISTORY_MS: a watch from before that lists again', async () => {
    let clock = Date.parse('2026-12-07T08:00:00Z');
    const store = openSqliteStore(file, { now: () => new Date(clock) });
    await store.create<Service>(aService('a'));
    await store.create<Service>(aService('b'));
    clock += CLOSE_HISTORY_MS + 1;
    await store.create<Service>(aService('c'));
    await store.close();
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT revision FROM history ORDER BY seq').pluck().all()).toEqual([3]);
    } finally {
      raw.close();
    }
    const again = openSqliteStore(file);
    try {
      expect(revisionsOf(await readUntil(again.watch({ fromRevision: 2 }, AbortSignal.timeout(5_000)), 3))).toEqual([3]);
      await expect(readUntil(again.watch({ fromRevision: 1 }, AbortSignal.timeout(5_000)), 3)).rejects.toThrow(/list again/);
    } finally {
      await again.close();
    }
  });

  it('after a crash (no close) keeps every committed object but no history: a watch from before answers EXPIRED', async () => {
    const first = openSqliteStore(file);
    await first.create<Service>(aService('a'));
    await first.close(); // a history through revision 1 in the file
    // A server that writes and is killed before close: its commits are in the file (WAL), its history is not.
    const script = join(dir, 'crash.mts');
    writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(fileURLToPath(new URL('./sqlite-store.ts', import.meta.url)))};
       const store = openSqliteStore(${JSON.stringify(file)});
       await store.create({ apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name: 'n2' } });
       await store.create({ apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name: 'n3' } });
       process.kill(process.pid, 'SIGKILL');`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const again = openSqliteStore(file);
    try {
      expect(await again.currentRevision()).toBe(3);
      expect((await again.list('Namespace')).items.map((n) => n.metadata.name).sort()).toEqual(['n2', 'n3']);
      expect(await again.get('Service', 'default', 'a')).toBeDefined();
      // The file's history (through revision 1, from the close before) is not whole up to 3: none is loaded.
      await expect(readUntil(again.watch({ fromRevision: 1 }, AbortSignal.timeout(5_000)), 3)).rejects.toThrow(/list again/);
      const next = again.watch({ fromRevision: 3 }, AbortSignal.timeout(5_000));
      await again.create<Service>(aService('b'));
      expect(revisionsOf(await readUntil(next, 4))).toEqual([4]);
    } finally {
      await again.close();
    }
    // Closed properly again: the next open resumes from there.
    const third = openSqliteStore(file);
    try {
      expect(revisionsOf(await readUntil(third.watch({ fromRevision: 3 }, AbortSignal.timeout(5_000)), 4))).toEqual([4]);
    } finally {
      await third.close();
    }
  });

  it('answers EXPIRED to a watch from a revision the file does not have (it lost its last commits): its client lists again', async () => {
    const first = openSqliteStore(file);
    await first.create<Service>(aService('a'));
    await first.close();
    copyFileSync(file, join(dir, 'backup.db'));
    const later = openSqliteStore(file);
    await later.create<Service>(aService('b'));
    await later.create<Service>(aService('c')); // a client saw revision 3
    await later.close();
    copyFileSync(join(dir, 'backup.db'), file); // as after a power cut that lost the WAL's tail (revision 1)
    const restored = openSqliteStore(file);
    try {
      expect(await restored.currentRevision()).toBe(1);
      // Left waiting, it would take the next changes' revisions (2, 3) for the ones it saw and skip them.
      const err = await readUntil(restored.watch({ kind: 'Service', fromRevision: 3 }, AbortSignal.timeout(5_000)), 3).catch((e: unknown) => e);
      expect(isAppError(err, 'EXPIRED')).toBe(true);
      expect((err as Error).message).toMatch(/watch from revision 3 is ahead of the store \(now 1\).*list again/);
      // From the store's own revision: served.
      const next = restored.watch({ kind: 'Service', fromRevision: 1 }, AbortSignal.timeout(5_000));
      await restored.create<Service>(aService('d'));
      expect(revisionsOf(await readUntil(next, 2))).toEqual([2]);
    } finally {
      await restored.close();
    }
  });

  it('says so when close() cannot write the history (another writer holds the file): the next open lists again', async () => {
    const failures: Error[] = [];
    const store = openSqliteStore(file, { onHistoryNotSaved: (e) => failures.push(e) });
    await store.create<Service>(aService('a'));
    const other = new Database(file, { timeout: 0 });
    try {
      other.exec('BEGIN IMMEDIATE'); // holds the write lock past the store's 5 s busy wait
      await store.close();
    } finally {
      other.close();
    }
    expect(failures.map((e) => e.message)).toEqual([expect.stringMatching(/locked|busy/i)]);
    const again = openSqliteStore(file);
    try {
      expect(await again.get('Service', 'default', 'a')).toBeDefined();
      const err = await readUntil(again.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 1).catch((e: unknown) => e);
      expect(isAppError(err, 'EXPIRED')).toBe(true);
    } finally {
      await again.close();
    }
  }, 20_000);

  it('a restored backup goes on past the replaced file\'s revisions: a watch from one it saw is EXPIRED, also after new writes', async () => {
    const first = openSqliteStore(file);
    await first.create<Service>(aService('a'));
    await first.close();
    await backupSqlite(file, join(dir, 'backup.db')); // revision 1
    const later = openSqliteStore(file);
    for (const n of ['b', 'c', 'd']) await later.create<Service>(aService(n)); // a client saw revision 4
    await later.close();
    const r = await restoreSqlite(join(dir, 'backup.db'), file);
    expect(r).toMatchObject({ revision: 1, startsAt: 5 });
    const restored = openSqliteStore(file);
    try {
      expect(await restored.currentRevision()).toBe(5);
      for (const n of ['x', 'y', 'z']) await restored.create<Service>(aService(n)); // revisions 6-8: past the client's 4
      const err = await readUntil(restored.watch({ kind: 'Service', fromRevision: 4 }, AbortSignal.timeout(5_000)), 8).catch((e: unknown) => e);
      expect(isAppError(err, 'EXPIRED')).toBe(true);
      expect((await restored.list('Service')).items.map((x) => x.metadata.name).sort()).toEqual(['a', 'x', 'y', 'z']);
    } finally {
      await restored.close();
    }
  });
});
