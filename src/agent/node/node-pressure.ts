// The host checks the source teams ran by hand on every Docker host, as node conditions: threads
// against kernel.pid_max and kernel.threads-max (PIDPressure), free bytes and inodes where Docker
// and the agent keep their data (DiskPressure), available memory (MemoryPressure). A condition
// that holds keeps new instances off the node (the scheduler filters on it) and shows in
// `get nodes` and `describe node`. Readings come from /proc and statfs(2); `procRoot` lets tests
// point at a fake /proc.
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, type Condition } from '../../core/index.js';

export interface PressureThresholds {
  /** Pressure when fewer than this fraction of a filesystem's bytes are free (default 0.10). */
  diskFree: number;
  /** ... or of its inodes (default 0.05). */
  inodesFree: number;
  /** Pressure when MemAvailable is under this fraction of MemTotal (default 0.05). */
  memoryAvailable: number;
  /** Pressure when threads exceed this fraction of min(pid_max, threads-max) (default 0.90). */
  pidsUsed: number;
  /** The runtime is not responsive (DockerResponsive False) when a ping takes longer (default 5000 ms). */
  pingMs: number;
}

export const DEFAULT_THRESHOLDS: PressureThresholds = { diskFree: 0.1, inodesFree: 0.05, memoryAvailable: 0.05, pidsUsed: 0.9, pingMs: 5000 };

export interface FsReading {
  path: string;
  bytesFree: number;
  bytesTotal: number;
  inodesFree: number;
  inodesTotal: number;
}

export interface HostReadings {
  memory?: { availableBytes: number; totalBytes: number } | undefined;
  /** Tasks (threads) now, and the kernel's limit: min(pid_max, threads-max). */
  pids?: { used: number; limit: number } | undefined;
  filesystems: FsReading[];
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;

async function readNumber(path: string): Promise<number | undefined> {
  const n = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Reads /proc (meminfo, loadavg's task count, pid_max, threads-max) and statfs of `paths`. */
export async function readHost(paths: readonly string[], procRoot = '/proc'): Promise<HostReadings> {
  const meminfo = await readFile(join(procRoot, 'meminfo'), 'utf8').catch(() => '');
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  // loadavg's 4th field is "running/total" scheduling entities: every thread of every process.
  const loadavg = await readFile(join(procRoot, 'loadavg'), 'utf8').catch(() => '');
  const tasks = Number(/\s\d+\/(\d+)\s/.exec(loadavg)?.[1]);
  const pidMax = await readNumber(join(procRoot, 'sys/kernel/pid_max'));
  const threadsMax = await readNumber(join(procRoot, 'sys/kernel/threads-max'));
  const limit = Math.min(pidMax ?? Infinity, threadsMax ?? Infinity);
  const filesystems: FsReading[] = [];
  for (const path of [...new Set(paths)]) {
    const s = await statfs(path).catch(() => undefined);
    if (!s || s.blocks === 0) continue;
    filesystems.push({ path, bytesFree: s.bavail * s.bsize, bytesTotal: s.blocks * s.bsize, inodesFree: s.ffree, inodesTotal: s.files });
  }
  return {
    memory: total !== undefined && available !== undefined ? { availableBytes: available, totalBytes: total } : undefined,
    pids: Number.isFinite(tasks) && Number.isFinite(limit) ? { used: tasks, limit } : undefined,
    filesystems,
  };
}

/** The three pressure conditions from readings (status True while a threshold is crossed). */
export function pressureConditions(r: HostReadings, t: PressureThresholds = DEFAULT_THRESHOLDS): Omit<Condition, 'lastTransitionTime'>[] {
  const out: Omit<Condition, 'lastTransitionTime'>[] = [];
  if (r.memory) {
    const free = r.memory.availableBytes / r.memory.totalBytes;
    const under = free < t.memoryAvailable;
    out.push({
      type: 'MemoryPressure',
      status: under ? 'True' : 'False',
      reason: under ? 'LowMemory' : 'EnoughMemory',
      message: `${gib(r.memory.availableBytes)} of ${gib(r.memory.totalBytes)} available (${pct(free)}; pressure under ${pct(t.memoryAvailable)})`,
    });
  }
  if (r.filesystems.length > 0) {
    const full = r.filesystems.find((f) => f.bytesFree / f.bytesTotal < t.diskFree || (f.inodesTotal > 0 && f.inodesFree / f.inodesTotal < t.inodesFree));
    const shown = full ?? r.filesystems[0]!;
    const inodes = shown.inodesTotal > 0 ? `, ${pct(shown.inodesFree / shown.inodesTotal)} of inodes` : '';
    out.push({
      type: 'DiskPressure',
      status: full ? 'True' : 'False',
      reason: full ? 'LowDisk' : 'EnoughDisk',
      message: `${shown.path}: ${gib(shown.bytesFree)} of ${gib(shown.bytesTotal)} free (${pct(shown.bytesFree / shown.bytesTotal)}${inodes}; pressure under ${pct(t.diskFree)} of bytes or ${pct(t.inodesFree)} of inodes)`,
    });
  }
  if (r.pids) {
    const used = r.pids.used / r.pids.limit;
    const over = used > t.pidsUsed;
    out.push({
      type: 'PIDPressure',
      status: over ? 'True' : 'False',
      reason: over ? 'ManyThreads' : 'EnoughPids',
      message: `${r.pids.used} threads of ${r.pids.limit} allowed (min of kernel.pid_max and kernel.threads-max; ${pct(used)}; pressure over ${pct(t.pidsUsed)})`,
    });
  }
  return out;
}

/** `--pressure disk=10%,inodes=5%,memory=5%,pids=90%,ping=5s`: thresholds, defaults for those not named. */
export function parsePressureThresholds(text: string | undefined): PressureThresholds {
  const t = { ...DEFAULT_THRESHOLDS };
  if (text === undefined || text.trim() === '') return t;
  const keys: Record<string, keyof PressureThresholds> = { disk: 'diskFree', inodes: 'inodesFree', memory: 'memoryAvailable', pids: 'pidsUsed' };
  const wrong = (part: string): UsageError =>
    new UsageError(`--pressure "${part}" must be disk=N%, inodes=N%, memory=N% or pids=N% with N between 0 and 100, or ping=Ns (e.g. disk=10%,pids=90%,ping=5s)`);
  for (const part of text.split(',')) {
    const ping = /^\s*ping=(\d+(?:\.\d+)?)(ms|s)\s*$/.exec(part);
    if (ping) {
      const ms = Number(ping[1]) * (ping[2] === 's' ? 1000 : 1);
      if (!(ms > 0)) throw wrong(part);
      t.pingMs = ms;
      continue;
    }
    const m = /^\s*(disk|inodes|memory|pids)=(\d+(?:\.\d+)?)%\s*$/.exec(part);
    const value = m ? Number(m[2]) / 100 : NaN;
    if (!m || !(value > 0 && value < 1)) throw wrong(part);
    t[keys[m[1]!]!] = value;
  }
  return t;
}

/** DockerResponsive: False while a ping to the runtime takes longer than the threshold. */
export function responsiveCondition(runtime: string, tookMs: number, t: PressureThresholds = DEFAULT_THRESHOLDS): Omit<Condition, 'lastTransitionTime'> {
  const slow = tookMs > t.pingMs;
  return {
    type: 'DockerResponsive',
    status: slow ? 'False' : 'True',
    reason: slow ? 'SlowPing' : 'PingAnswered',
    message: `${runtime} answered a ping in ${tookMs} ms (not responsive over ${t.pingMs} ms)`,
  };
}
