import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GhostCheck } from './docker-ghost.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function aProc(pids: number[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gantry-proc-'));
  dirs.push(root);
  for (const pid of pids) await mkdir(join(root, String(pid)));
  return root;
}

describe('GhostCheck', () => {
  it('pid 0 while running is a ghost by Docker\'s own account', async () => {
    const check = new GhostCheck({ procRoot: await aProc([]), confirmDelayMs: 0 });
    expect(await check.reason(0, async () => ({ running: true, pid: 0 }))).toMatch(/no process \(pid 0\)/);
  });

  it('trusts a missing /proc entry only after seeing container processes there, and only when a second look agrees', async () => {
    const check = new GhostCheck({ procRoot: await aProc([100]), confirmDelayMs: 0 });
    // Not seen any container process yet: maybe another PID namespace, so no verdict.
    expect(await check.reason(200, async () => ({ running: true, pid: 200 }))).toBeUndefined();
    expect(await check.reason(100, async () => ({ running: true, pid: 100 }))).toBeUndefined();
    // It exited meanwhile (Docker now says so): not a ghost.
    expect(await check.reason(200, async () => ({ running: false, pid: 0 }))).toBeUndefined();
    expect(await check.reason(200, async () => ({ running: true, pid: 200 }))).toBe('Docker reports it running with pid 200, but no such process exists');
  });
});
