import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectProcViews, procViewBinds } from './proc-views.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function fakeLxcfs(mounted: boolean, files: string[]): Promise<{ root: string; mountinfo: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-lxcfs-'));
  dirs.push(dir);
  const root = join(dir, 'lxcfs');
  await mkdir(join(root, 'proc'), { recursive: true });
  for (const f of files) await writeFile(join(root, 'proc', f), 'MemTotal: 65536 kB\n');
  const mountinfo = join(dir, 'mountinfo');
  const lines = ['22 1 0:21 / /proc rw,nosuid - proc proc rw'];
  if (mounted) lines.push(`119 26 0:76 / ${root} rw,nosuid,nodev,relatime - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other`);
  await writeFile(mountinfo, `${lines.join('\n')}\n`);
  return { root, mountinfo };
}

describe('lxcfs /proc views', () => {
  it('offers the proc files a fuse.lxcfs mount serves', async () => {
    const { root, mountinfo } = await fakeLxcfs(true, ['meminfo', 'uptime', 'loadavg']);
    expect(await detectProcViews(root, mountinfo)).toEqual(['loadavg', 'meminfo', 'uptime']);
    expect(procViewBinds(['meminfo'], root)).toEqual([`${root}/proc/meminfo:/proc/meminfo:ro`]);
  });

  it('offers nothing when the directory is not an lxcfs mount (a stopped lxcfs leaves it behind)', async () => {
    const { root, mountinfo } = await fakeLxcfs(false, ['meminfo']);
    expect(await detectProcViews(root, mountinfo)).toEqual([]);
    expect(await detectProcViews(root, join(root, 'no-such-mountinfo'))).toEqual([]);
  });
});
