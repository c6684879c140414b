// /proc views from lxcfs: when lxcfs runs on the host (Debian `lxcfs`, mounted at /var/lib/lxcfs),
// its proc files answer with the reading process's own cgroup limits, so `/proc/meminfo` in a
// container with a 64Mi limit says MemTotal 65536 kB, and `top` or a language runtime sizing its
// heap sees the container, not the host. The driver bind-mounts them over the container's /proc
// files. Without lxcfs nothing is mounted and the node says so (`describe node`: procViews).
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LXCFS_ROOT = '/var/lib/lxcfs';
/** The proc files lxcfs serves that containers get. */
export const PROC_VIEW_FILES = ['cpuinfo', 'diskstats', 'loadavg', 'meminfo', 'stat', 'swaps', 'uptime'] as const;

/**
 * The lxcfs proc files available for containers: none unless `root` is a fuse.lxcfs mount (a bare
 * directory left behind by a stopped lxcfs would mount empty files over /proc).
 */
export async function detectProcViews(root = LXCFS_ROOT, mountinfo = '/proc/self/mountinfo'): Promise<string[]> {
  let mounts: string;
  try {
    mounts = await readFile(mountinfo, 'utf8');
  } catch {
    return [];
  }
  // mountinfo: `id parent major:minor root mountpoint options ... - fstype source superoptions`.
  const mounted = mounts.split('\n').some((line) => {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    return fields[4] === root && dash > 0 && fields[dash + 1] === 'fuse.lxcfs';
  });
  if (!mounted) return [];
  const found: string[] = [];
  for (const f of PROC_VIEW_FILES) {
    try {
      await access(join(root, 'proc', f));
      found.push(f);
    } catch {
      // Older lxcfs versions serve fewer files.
    }
  }
  return found;
}

/** Docker bind mounts of the views over the container's own /proc files (read-only). */
export function procViewBinds(files: readonly string[], root = LXCFS_ROOT): string[] {
  return files.map((f) => `${join(root, 'proc', f)}:/proc/${f}:ro`);
}
