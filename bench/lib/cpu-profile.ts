// The hottest functions of a V8 .cpuprofile (what `node --cpu-prof` writes), by self time and by
// inclusive time, for the summary of a run with --profile. Open the file itself in Chrome
// DevTools (Performance tab) for the full picture.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileDigest {
  /** Sampled time, ms, and the part of it the process was idle. */
  totalMs: number;
  idleMs: number;
  self: HotFunction[];
  /** Inclusive time of the project's own functions (dist/ or src/), so callers of hot code show. */
  inclusive: HotFunction[];
}

const OWN_CODE = /\/(dist|src)\//;

export async function digestProfile(path: string, top = 12): Promise<ProfileDigest> {
  const p = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    const where = f.url ? ` ${f.url.replace(/^.*\/(dist|src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const leaf = byId.get(id);
    if (!leaf) return;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || !OWN_CODE.test(n.callFrame.url)) continue;
      const k = label(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  });
  const idleMs = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const busy = Math.max(1, totalMs - idleMs);
  const rank = (m: Map<string, number>): HotFunction[] =>
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: Math.round((ms / busy) * 1000) / 10 }));
  return { totalMs: Math.round(totalMs), idleMs: Math.round(idleMs), self: rank(self), inclusive: rank(inclusive) };
}

/** Summary lines: where a process's (`who`: the server, a sim) busy time went. */
export function profileLines(path: string, d: ProfileDigest, who = 'server'): string[] {
  const busy = d.totalMs - d.idleMs;
  const fmt = (h: HotFunction): string => `${h.share}% ${h.name}`;
  return [
    `${who} profile: ${path} — ${(busy / 1000).toFixed(1)} s busy of ${(d.totalMs / 1000).toFixed(1)} s sampled`,
    `  self time: ${d.self.slice(0, 8).map(fmt).join('; ')}`,
    `  inclusive (own code): ${d.inclusive.slice(0, 10).map(fmt).join('; ')}`,
  ];
}
