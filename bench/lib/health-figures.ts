// Event-loop health and footprint, read from what the processes themselves report: the server
// logs `event loop delay` once per 10 s window (src/runtime/loop-monitor.ts), each sim prints
// `heartbeat send delay: ...` every 10 s (how long its heartbeats waited to be sent), and the
// state file is what the data directory holds at the end. A failing run then says whether the
// server stalled or the simulator fell behind.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Figure } from '../scenario.js';
import { round } from './rollout.js';

const STALL_MS = 100;

/** Collects the sims' heartbeat send delay reports (p99 and max of each 10 s report). */
export class SimLagTracker {
  private p99Max = Number.NaN;
  private maxMax = Number.NaN;
  private reports = 0;
  private loopMax = Number.NaN;

  /** Feed it every stdout line of a sim; other lines are ignored. */
  readonly onLine = (line: string): void => {
    if (!line.startsWith('heartbeat send delay: ')) return;
    const loop = /event loop delay p99 [\d.]+ ms, max ([\d.]+) ms/.exec(line);
    if (loop) this.loopMax = Math.max(Number(loop[1]), Number.isNaN(this.loopMax) ? 0 : this.loopMax);
    const m = /^heartbeat send delay: p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms/.exec(line);
    if (!m) return;
    this.reports++;
    this.p99Max = Math.max(Number(m[2]), Number.isNaN(this.p99Max) ? 0 : this.p99Max);
    this.maxMax = Math.max(Number(m[3]), Number.isNaN(this.maxMax) ? 0 : this.maxMax);
  };

  figures(): Record<string, Figure> {
    const v = (x: number): number | null => (Number.isNaN(x) ? null : round(x, 1));
    return { simHeartbeatDelayP99Ms: v(this.p99Max), simHeartbeatDelayMaxMs: v(this.maxMax), simLoopMaxMs: v(this.loopMax), simLagReports: this.reports };
  }
}

interface LoopWindow {
  p99Ms: number;
  maxMs: number;
  /** The window's longest garbage-collection pause, ms (absent from an older server's log). */
  gcMaxMs?: number | undefined;
  /** The JS heap in use at the window's end, MiB (absent from an older server's log). */
  heapUsedMiB?: number | undefined;
  /** The heap V8 holds (used or not) and the resident size at the window's end, MiB (absent from older logs). */
  heapTotalMiB?: number | undefined;
  externalMiB?: number | undefined;
  heapPhysicalMiB?: number | undefined;
  v8MallocMiB?: number | undefined;
  rssMiB?: number | undefined;
  /** When the server logged it (pino's epoch ms). */
  time: number;
}

/** The server's loop-delay windows from its log (pino JSON lines); [] when it has none. */
async function loopWindows(serverLog: string): Promise<LoopWindow[]> {
  const text = await readFile(serverLog, 'utf8').catch(() => '');
  const out: LoopWindow[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"event loop delay"')) continue;
    try {
      const o = JSON.parse(line) as Partial<LoopWindow>;
      if (typeof o.maxMs === 'number' && typeof o.p99Ms === 'number') out.push({ p99Ms: o.p99Ms, maxMs: o.maxMs, gcMaxMs: o.gcMaxMs, heapUsedMiB: o.heapUsedMiB, heapTotalMiB: o.heapTotalMiB, externalMiB: o.externalMiB, heapPhysicalMiB: o.heapPhysicalMiB, v8MallocMiB: o.v8MallocMiB, rssMiB: o.rssMiB, time: o.time ?? 0 });
    } catch {
      // a torn last line: skip it
    }
  }
  return out;
}

/**
 * The server's JS heap floor in each span (epoch ms): the least heap in use at the end of any of
 * its loop windows, MiB, or NaN when the span has none. What the heap holds after collections,
 * so a floor that climbs from span to span is memory kept, where RSS also counts garbage waiting
 * for a major collection and pages the allocator has not returned.
 */
export async function serverHeapFloors(dataDir: string, spans: readonly { fromEpochMs: number; toEpochMs: number }[]): Promise<number[]> {
  const all = await loopWindows(join(dataDir, 'server.log'));
  return spans.map(({ fromEpochMs, toEpochMs }) => {
    const xs = all.filter((w) => w.time >= fromEpochMs && w.time <= toEpochMs && w.heapUsedMiB !== undefined).map((w) => w.heapUsedMiB!);
    return xs.length ? Math.min(...xs) : Number.NaN;
  });
}

/**
 * Where the server's resident memory was in each span (epoch ms), means of its loop windows, MiB
 * (NaN without them): `heapTotal`, the JS heap V8 holds from the system, used or not; `outside`,
 * resident memory outside it (RSS less heapTotal: code, native allocations such as SQLite's and
 * TLS's, the allocator's free lists). Which of the two grows says where an RSS creep is.
 * `external`: the part of `outside` V8 knows of (Buffers and other memory held by JS objects);
 * `heapPhysical`: the heap's resident pages, `v8Malloc`: V8's own mallocs outside the heap (NaN
 * from a server older than these fields).
 */
export async function serverMemoryMeans(
  dataDir: string,
  spans: readonly { fromEpochMs: number; toEpochMs: number }[],
): Promise<{ heapTotal: number; outside: number; external: number; heapPhysical: number; v8Malloc: number }[]> {
  const all = await loopWindows(join(dataDir, 'server.log'));
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  return spans.map(({ fromEpochMs, toEpochMs }) => {
    const ws = all.filter((w) => w.time >= fromEpochMs && w.time <= toEpochMs && w.heapTotalMiB !== undefined && w.rssMiB !== undefined);
    const some = (pick: (w: LoopWindow) => number | undefined): number => mean(ws.flatMap((w) => (pick(w) === undefined ? [] : [pick(w)!])));
    return {
      heapTotal: mean(ws.map((w) => w.heapTotalMiB!)),
      outside: mean(ws.map((w) => w.rssMiB! - w.heapTotalMiB!)),
      external: some((w) => w.externalMiB),
      heapPhysical: some((w) => w.heapPhysicalMiB),
      v8Malloc: some((w) => w.v8MallocMiB),
    };
  });
}

/** Bytes of state.db and its WAL. */
export async function stateBytes(dataDir: string): Promise<number> {
  let n = 0;
  for (const f of ['state.db', 'state.db-wal']) n += (await stat(join(dataDir, f)).catch(() => undefined))?.size ?? 0;
  return n;
}

/**
 * `serverLoopMaxMs`: the longest event-loop delay the server saw (max of its windows);
 * `serverLoopP99Ms`: the worst window's p99; `serverLoopStallWindows`: windows whose max passed
 * 100 ms, of `serverLoopWindows`; `serverGcMaxMs`: the longest garbage-collection pause of any
 * window, and `serverGcInLoopMaxMs` that of the window with the longest delay (so a max delay that
 * equals it was the collector); `stateFileMiB`: state.db + WAL at the end.
 */
export async function serverHealthFigures(dataDir: string, between?: { fromEpochMs: number; toEpochMs: number }): Promise<Record<string, Figure>> {
  const all = await loopWindows(join(dataDir, 'server.log'));
  const windows = between ? all.filter((w) => w.time >= between.fromEpochMs && w.time <= between.toEpochMs) : all;
  const max = (xs: number[]): number | null => (xs.length ? round(Math.max(...xs), 1) : null);
  return {
    serverLoopMaxMs: max(windows.map((w) => w.maxMs)),
    serverLoopP99Ms: max(windows.map((w) => w.p99Ms)),
    serverLoopStallWindows: windows.filter((w) => w.maxMs > STALL_MS).length,
    serverLoopWindows: windows.length,
    serverGcMaxMs: max(windows.flatMap((w) => (w.gcMaxMs === undefined ? [] : [w.gcMaxMs]))),
    serverGcInLoopMaxMs: windows.length === 0 ? null : (windows.reduce((a, b) => (b.maxMs > a.maxMs ? b : a)).gcMaxMs ?? null),
    stateFileMiB: round((await stateBytes(dataDir)) / 2 ** 20, 1),
  };
}
