import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes our pid, refuses a second holder while it lives, and frees the file on release', async () => {
    // A live Node process that is not us stands for the running Gantry.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const held = await lockDataDir(dir, other.pid);
      expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(other.pid));
      await expect(lockDataDir(dir)).rejects.toThrow(new RegExp(`in use by another Gantry \\(pid ${other.pid}\\); nothing was started`));
      await held.release();
    } finally {
      other.kill('SIGKILL');
    }
    const mine = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await mine.release();
    await expect(readFile(join(dir, LOCK_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('takes over a lock whose process is gone', async () => {
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    await writeFile(join(dir, LOCK_FILE), `${dead.pid}\n`);
    const lock = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  });
});
