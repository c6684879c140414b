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
      expect(await again.currentRevision()).toBe(5);
      expect(await again.list('Service')).toEqual(before.services);
      expect(await again.list('Namespace')).toEqual(before.namespaces);
      expect(await again.get('Node', undefined, 'n1')).toBeUndefined();
      expect(Object.isFrozen((await again.get('Service', 'default', 'web'))?.spec)).toBe(true);

      const history = await readUntil(again.watch({ fromRevision: 0 }, AbortSignal.timeout(5_000)), 5);
      expect(history.map((e) => [e.revision, e.type, e.object.kind])).toEqual([
        [1, 'ADDED', 'Service'],
        [2, 'MODIFIED', 'Service'],
        [3, 'ADDED', 'Node'],
        [4, 'ADDED', 'Namespace'],
        [5, 'DELETED', 'Node'],
      ]);
      const next = await again.update(withReplicas((await again.get('Service', 'default', 'web')) as Service, 1));
      expect(next.metadata.revision).toBe(6);
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
});
