import Database from 'better-sqlite3';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_VERSION, type NewObject, type Secret } from '../core/index.js';
import { SecretBox } from '../store/secret-box.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { privateStateFiles } from './data-dir.js';
import { loadOrCreateSecretKeys, parseSecretKeys, rotateSecretKey, secretKeyPath } from './secret-keys.js';

let dir: string;
let stores: SqliteStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-secret-keys-'));
});
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
  await rm(dir, { recursive: true, force: true });
});

const PLAIN = 'correct-horse-battery-staple';
const aSecret = (name: string, value = PLAIN): NewObject<Secret> => ({ apiVersion: API_VERSION, kind: 'Secret', metadata: { name, namespace: 'default' }, spec: { data: { password: value } } });

async function open(box?: SecretBox): Promise<SqliteStore> {
  const path = join(dir, 'state.db');
  await privateStateFiles(path);
  const s = openSqliteStore(path, box ? { secretBox: box } : {});
  stores.push(s);
  return s;
}

async function close(s: SqliteStore): Promise<void> {
  await s.close();
  stores = stores.filter((x) => x !== s);
}

/** Every byte Gantry's state files hold on disk (the database, its WAL and shared memory). */
async function diskBytes(): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('state.db'));
  return (await Promise.all(files.map((f) => readFile(join(dir, f))))).map((b) => b.toString('latin1')).join('');
}

/** How many times `needle` occurs in `bytes` (a count, so a failure does not print the file). */
function copies(bytes: string, needle: string): number {
  return bytes.split(needle).length - 1;
}

describe('the Secret keyring file', () => {
  it('is made 0600 at first start and read back the same', async () => {
    const made = await loadOrCreateSecretKeys(dir);
    expect(made).toHaveLength(1);
    expect((await stat(secretKeyPath(dir))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSecretKeys(dir)).toEqual(made);
  });

  it('is refused when others may read it, naming the fix', async () => {
    await loadOrCreateSecretKeys(dir);
    await chmod(secretKeyPath(dir), 0o644);
    await expect(loadOrCreateSecretKeys(dir)).rejects.toThrow(/has mode 0644: other users may read the key that opens every Secret; run chmod 600/);
  });

  it('names the line that is malformed', () => {
    expect(() => parseSecretKeys('# header\nk1 notbase64!\n', 'secret.key')).toThrow(/secret.key line 2 is not/);
    expect(() => parseSecretKeys('# only comments\n', 'secret.key')).toThrow(/holds no key/);
  });
});

describe('Secrets at rest in the state file', () => {
  it('never writes Secret data in clear: not in objects, not in history, not in the WAL', async () => {
    const store = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    const created = await store.create<Secret>(aSecret('db'));
    await store.update<Secret>({ ...created, spec: { data: { password: `${PLAIN}-2` } } });
    expect(await diskBytes()).not.toContain(PLAIN);
    expect((await store.get('Secret', 'default', 'db'))?.spec.data).toEqual({ password: `${PLAIN}-2` });
    // Read back from disk, with the history a watch resumes from.
    await close(store);
    const again = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    expect((await again.get('Secret', 'default', 'db'))?.spec.data).toEqual({ password: `${PLAIN}-2` });
    const replay: unknown[] = [];
    const ac = new AbortController();
    for await (const e of again.watch({ kind: 'Secret', fromRevision: 0 }, ac.signal)) {
      replay.push((e.object as Secret).spec.data);
      if (replay.length === 2) ac.abort();
    }
    expect(replay).toEqual([{ password: PLAIN }, { password: `${PLAIN}-2` }]);
  });

  it('makes state.db and its WAL 0600', async () => {
    const store = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    await store.create<Secret>(aSecret('db'));
    for (const f of (await readdir(dir)).filter((n) => n.startsWith('state.db'))) expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o600);
  });

  it('seals Secrets an older Gantry stored in clear at the next start', async () => {
    const old = await open();
    await old.create<Secret>(aSecret('legacy'));
    await close(old);
    expect(await diskBytes()).toContain(PLAIN);
    const store = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    expect((await store.get('Secret', 'default', 'legacy'))?.spec.data).toEqual({ password: PLAIN });
    expect(await diskBytes()).not.toContain(PLAIN);
  });

  it('rotates: a new key seals every row, old keys leave the file, and the store opens with the new key alone', async () => {
    const first = await loadOrCreateSecretKeys(dir);
    const store = await open(new SecretBox(first));
    for (const n of ['a', 'b', 'c']) await store.create<Secret>(aSecret(n));
    const r = await rotateSecretKey(dir, store);
    // While the store is open the file holds no history: close() writes it, sealed with the new key.
    expect(r).toMatchObject({ objects: 3, history: 0, dropped: [first[0]!.id] });
    expect(r.keyId).not.toBe(first[0]!.id);
    const ring = await readFile(secretKeyPath(dir), 'utf8');
    expect(ring).toContain(r.keyId);
    expect(ring).not.toContain(first[0]!.id);
    // Writes after the rotation use the new key too.
    await store.create<Secret>(aSecret('d'));
    await close(store);
    const bytes = await diskBytes();
    expect(bytes.split(`gtenc1:${r.keyId}:`).length - 1).toBeGreaterThanOrEqual(8); // 4 objects and their 4 history rows
    expect(bytes).not.toContain(`gtenc1:${first[0]!.id}:`);
    expect(bytes).not.toContain(PLAIN);
    const again = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    expect((await again.list('Secret')).items.map((s) => s.spec.data)).toEqual(Array(4).fill({ password: PLAIN }));
    await close(again);
    // The old key alone no longer opens them: the error names the key and the fix.
    expect(() => openSqliteStore(join(dir, 'state.db'), { secretBox: new SecretBox(first) })).toThrow(/which is not in the keyring .*restore secret.key/);
  });

  it('rotates after a restart: the history the last close wrote with the old key leaves the file too', async () => {
    const first = await loadOrCreateSecretKeys(dir);
    const before = await open(new SecretBox(first));
    // Enough history to fill pages of its own (a few small rows share a page the next close
    // overwrites), on few objects (split pages are the next test's).
    for (const n of ['a', 'b']) {
      let secret = await before.create<Secret>(aSecret(n));
      for (let i = 0; i < 100; i++) secret = await before.update<Secret>({ ...secret, spec: { data: { password: `${PLAIN}-${i}` } } });
    }
    await close(before); // history rows sealed with the first key
    expect(await diskBytes()).toContain(`gtenc1:${first[0]!.id}:`);
    // Loads them, then drops them; by its close they are over a minute old, so it writes none back.
    let clock = Date.now();
    const store = openSqliteStore(join(dir, 'state.db'), { secretBox: new SecretBox(first), now: () => new Date(clock) });
    stores.push(store);
    const r = await rotateSecretKey(dir, store);
    expect(r).toMatchObject({ objects: 2, dropped: [first[0]!.id] });
    clock += 2 * 60_000;
    await close(store);
    expect(await diskBytes()).not.toContain(`gtenc1:${first[0]!.id}:`);
  });

  it('rotates many Secrets: no page keeps bytes sealed with the old key (split pages, deleted rows)', async () => {
    const first = await loadOrCreateSecretKeys(dir);
    const store = await open(new SecretBox(first));
    // Enough Secrets to split the objects table's first page (a page that split keeps stale bytes
    // of its old content whatever secure_delete says), and some deleted (their bytes freed, not zeroed).
    for (let i = 0; i < 200; i++) await store.create<Secret>(aSecret(`s${i}`, `${PLAIN}-${i}`));
    for (let i = 0; i < 20; i++) await store.delete('Secret', 'default', `s${i}`);
    const r = await rotateSecretKey(dir, store);
    expect(r).toMatchObject({ objects: 180, dropped: [first[0]!.id] });
    expect(copies(await diskBytes(), `gtenc1:${first[0]!.id}:`)).toBe(0);
    await close(store);
    expect(copies(await diskBytes(), `gtenc1:${first[0]!.id}:`)).toBe(0);
  });

  it('says so when a reader keeps the file from being rebuilt, and seals with the new key all the same', async () => {
    const first = await loadOrCreateSecretKeys(dir);
    const store = await open(new SecretBox(first));
    for (let i = 0; i < 20; i++) await store.create<Secret>(aSecret(`s${i}`));
    // A backup or the sqlite3 shell reading the file: its snapshot keeps the WAL from being emptied.
    const reader = new Database(join(dir, 'state.db'), { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM objects').get();
      const r = await rotateSecretKey(dir, store);
      expect(r).toMatchObject({ objects: 20, rebuilt: false });
      expect(r.message).toMatch(/not rebuilt \(another connection is reading the state file.*rotate again/);
      reader.exec('COMMIT');
      // Later writes use the new key even so.
      await store.create<Secret>(aSecret('after'));
      await close(store);
      const again = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
      expect((await again.get('Secret', 'default', 'after'))?.spec.data).toEqual({ password: PLAIN });
      // With nobody reading, the next rotation rebuilds it.
      expect(await rotateSecretKey(dir, again)).toMatchObject({ rebuilt: true });
      expect(copies(await diskBytes(), `gtenc1:${first[0]!.id}:`)).toBe(0);
    } finally {
      if (reader.open) reader.close();
    }
  }, 20_000);

  it('seals many Secrets an older Gantry stored in clear: none stays in a split or freed page', async () => {
    const old = await open();
    for (let i = 0; i < 200; i++) await old.create<Secret>(aSecret(`s${i}`, `${PLAIN}-${i}`));
    for (let i = 0; i < 20; i++) await old.delete('Secret', 'default', `s${i}`);
    await close(old);
    const store = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    expect((await store.list('Secret')).items).toHaveLength(180);
    expect(copies(await diskBytes(), PLAIN)).toBe(0);
  });

  it('a Secret key file of another cluster does not open the store, and says which key is missing', async () => {
    const store = await open(new SecretBox(await loadOrCreateSecretKeys(dir)));
    await store.create<Secret>(aSecret('db'));
    await close(store);
    await writeFile(secretKeyPath(dir), `k0ther ${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    expect(() => openSqliteStore(join(dir, 'state.db'), { secretBox: new SecretBox(parseSecretKeys(`k0ther ${Buffer.alloc(32, 7).toString('base64')}`, 'x')) })).toThrow(/sealed with secret key "k[0-9a-f]+", which is not in the keyring \(keys: k0ther\)/);
  });
});
