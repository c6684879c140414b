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
  /**
   * Event-loop turns longer than LONG_TURN_MS: how many, the longest, and the own functions they ran
   * (inclusive, share of the time in long turns). A turn runs from an idle sample, or from the
   * first sample of a timers or immediates phase (processTimers, processImmediate on the stack),
   * to the next such boundary: what a due timer, or a socket that became readable, waited out.
   * Samples without an idle one between them are not one turn: a busy loop still runs its timers
   * between phases (a profile of a 5,000-node rollout had a 1.3 s "busy stretch" while the loop's
   * longest delay was 224 ms). Approximate: a turn whose phases run no JS timer or immediate
   * merges with the next, two timers phases in a row (nothing between) count as one turn, and a
   * poll phase is cut from the immediates that follow it.
   */
  long: { count: number; longestMs: number; totalMs: number; inclusive: HotFunction[] };
}

const LONG_TURN_MS = 100;

/** Functions that start the timers and the check (setImmediate) phases of a loop turn. */
const PHASE_STARTS = new Set(['processTimers', 'processImmediate']);
/** Samples V8 records under (root) while the loop is inside some callback: the collector, its own work. */
const OUTSIDE_JS = new Set(['(garbage collector)', '(program)']);

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
  const addInclusive = (into: Map<string, number>, id: number, ms: number): void => {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || !OWN_CODE.test(n.callFrame.url)) continue;
      const k = label(n);
      if (seen.has(k)) continue;
      seen.add(k);
      into.set(k, (into.get(k) ?? 0) + ms);
    }
  };
  let totalMs = 0;
  // The timers or immediates phase a node runs in ('' for none), memoized up the tree.
  const inPhase = new Map<number, string>();
  const phaseOf = (id: number): string => {
    const known = inPhase.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    const up = parent.get(id);
    const v = n === undefined ? '' : PHASE_STARTS.has(n.callFrame.functionName) ? n.callFrame.functionName : up !== undefined ? phaseOf(up) : '';
    inPhase.set(id, v);
    return v;
  };
  // Long turns: runs of busy samples, closed by an idle sample or the start of a timers or
  // immediates phase (see ProfileDigest.long).
  const inLong = new Map<string, number>();
  const long = { count: 0, longestMs: 0, totalMs: 0 };
  let turnFrom = 0;
  let turnMs = 0;
  let prevPhase = '';
  const closeTurn = (end: number): void => {
    if (turnMs > LONG_TURN_MS) {
      long.count++;
      long.longestMs = Math.max(long.longestMs, turnMs);
      long.totalMs += turnMs;
      for (let j = turnFrom; j < end; j++) {
        const leaf = byId.get(p.samples[j]!);
        if (leaf && leaf.callFrame.functionName !== '(idle)') addInclusive(inLong, p.samples[j]!, (p.timeDeltas[j] ?? 0) / 1000);
      }
    }
    turnMs = 0;
    turnFrom = end;
  };
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const leaf = byId.get(id);
    if (!leaf) return;
    const fn = leaf.callFrame.functionName;
    const idle = fn === '(idle)';
    if (idle) {
      closeTurn(i + 1);
      prevPhase = '';
    } else if (!OUTSIDE_JS.has(fn)) {
      // The collector and V8's own work sit under (root), outside any phase: they belong to the
      // turn they interrupt and neither end nor start one.
      const phase = phaseOf(id);
      if (phase !== '' && phase !== prevPhase) closeTurn(i);
      prevPhase = phase;
    }
    if (!idle) turnMs += ms;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + ms);
    addInclusive(inclusive, id, ms);
  });
  closeTurn(p.samples.length);
  const idleMs = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const busy = Math.max(1, totalMs - idleMs);
  const rank = (m: Map<string, number>): HotFunction[] =>
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: Math.round((ms / busy) * 1000) / 10 }));
  const longRank = [...inLong]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: Math.round((ms / Math.max(1, long.totalMs)) * 1000) / 10 }));
  return {
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    self: rank(self),
    inclusive: rank(inclusive),
    long: { count: long.count, longestMs: Math.round(long.longestMs), totalMs: Math.round(long.totalMs), inclusive: longRank },
  };
}

/** Summary lines: where a process's (`who`: the server, a sim) busy time went. */
export function profileLines(path: string, d: ProfileDigest, who = 'server'): string[] {
  const busy = d.totalMs - d.idleMs;
  const fmt = (h: HotFunction): string => `${h.share}% ${h.name}`;
  return [
    `${who} profile: ${path} — ${(busy / 1000).toFixed(1)} s busy of ${(d.totalMs / 1000).toFixed(1)} s sampled`,
    `  self time: ${d.self.slice(0, 8).map(fmt).join('; ')}`,
    `  inclusive (own code): ${d.inclusive.slice(0, 10).map(fmt).join('; ')}`,
    `  loop turns over ${LONG_TURN_MS} ms (idle or a timers/immediates phase to the next; what a due timer or a readable socket waited): ${d.long.count}, longest ${d.long.longestMs} ms, ${(d.long.totalMs / 1000).toFixed(1)} s in all` +
      (d.long.count > 0 ? `; in them (own code, inclusive): ${d.long.inclusive.slice(0, 10).map(fmt).join('; ')}` : ''),
  ];
}
