import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest, Service } from '../core/index.js';
import { openSqliteStore } from './sqlite-store.js';
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
    // While open, each write trims the file in its own transaction to where memory stood before
    // it (8-10 now, 7-9 before the last write): not the whole history, not a second commit.
    const live = new Database(file, { readonly: true });
    try {
      expect(live.prepare('SELECT revision FROM history ORDER BY revision').pluck().all()).toEqual(range(7, 10));
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

  it('moves a state file of schema 1 (a revision per change) to schema 2 (a revision per transaction) at open', async () => {
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
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: 2 });
    expect(check.prepare('SELECT count(*) AS n FROM history WHERE revision = 3').get()).toEqual({ n: 2 });
    check.close();
  });
});
