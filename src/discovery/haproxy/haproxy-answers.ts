// Parsers for what HAProxy answers: the master CLI's `show proc` (who the current worker is, and
// the master's `[failed: N]` reload counter, which is how a failed reload shows in 2.6: the
// `reload` command itself answers nothing) and the runtime API's `show stat` CSV.

export interface ProcInfo {
  masterPid: number;
  /** Reloads the master has done, and how many of them failed (since the last success). */
  reloads: number;
  failed: number;
  /** The current workers (reloads column 0 is the newest); old workers are listed after. */
  workers: { pid: number; reloads: number }[];
}

/** Parses `show proc`; undefined when the text is not one. */
export function parseShowProc(text: string): ProcInfo | undefined {
  let master: { pid: number; reloads: number; failed: number } | undefined;
  const workers: { pid: number; reloads: number }[] = [];
  let section = 'master';
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers')) section = 'old';
    else if (line.startsWith('# programs')) section = 'programs';
    if (line.startsWith('#') || line.trim() === '') continue;
    const cols = line.trim().split(/\s+/);
    const pid = Number(cols[0]);
    if (!Number.isInteger(pid)) continue;
    if (cols[1] === 'master') {
      const failed = /\[failed: ([0-9]+)\]/.exec(line);
      master = { pid, reloads: Number(cols[2]), failed: failed ? Number(failed[1]) : 0 };
    } else if (cols[1] === 'worker' && section === 'workers') {
      workers.push({ pid, reloads: Number(cols[2]) });
    }
  }
  if (!master) return undefined;
  return { masterPid: master.pid, reloads: master.reloads, failed: master.failed, workers };
}

/** One server line of `show stat`. */
export interface ServerStat {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, "UP 1/2", "no check", ... as HAProxy says it. */
  status: string;
  /** Sessions served in total (stot). */
  sessions: number;
}

/** Parses `show stat` (CSV with a `# pxname,svname,...` header): the server lines only. */
export function parseShowStat(text: string): ServerStat[] {
  const lines = text.split('\n');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  const col = (name: string): number => header.indexOf(name);
  const [px, sv, st, stot] = [col('pxname'), col('svname'), col('status'), col('stot')];
  if (px < 0 || sv < 0 || st < 0) return [];
  const out: ServerStat[] = [];
  for (const line of lines.slice(1)) {
    const c = line.split(',');
    const server = c[sv];
    if (!server || server === 'FRONTEND' || server === 'BACKEND') continue;
    out.push({ backend: c[px] ?? '', server, status: c[st] ?? '', sessions: Number(c[stot] ?? 0) });
  }
  return out;
}
