// One Gantry per data dir: `<data dir>/gantry.lock` holds the PID of the process that owns the
// directory. A start takes it before it opens the store, runs HAProxy or touches a container, so a
// second `gantry up` on the same directory refuses instead of disturbing the running one. A lock
// whose process is gone (a crash, a kill -9) is taken over.
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, UnavailableError } from '../core/index.js';

export const LOCK_FILE = 'gantry.lock';

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/** Whether `pid` names a live process that could be a Gantry (a reused PID of another program is not). */
function isLiveGantry(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user, so it is alive.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Gantry runs on Node: a PID reused by some other program after a crash is not an owner.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true; // no /proc (not Linux): trust the signal check
  }
}

async function readPid(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Takes `<dir>/gantry.lock` for this process, or fails with the PID that holds it. `dir` must exist. */
export async function lockDataDir(dir: string, pid: number = process.pid): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(path, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        path,
        release: async () => {
          if ((await readPid(path)) === pid) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readPid(path);
    if (holder !== undefined && holder !== pid && isLiveGantry(holder)) {
      throw new ConflictError(`the data dir ${dir} is in use by another Gantry (pid ${holder}); nothing was started or changed. Stop that one first, or pass --data-dir (GANTRY_HOME) to run a second one elsewhere`);
    }
    // Left by a process that is gone (or half-written by one that is starting: retried briefly).
    if (holder === undefined && attempt < 2) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await rm(path, { force: true });
  }
  throw new UnavailableError(`could not take the lock ${path}: another process keeps making it`);
}
