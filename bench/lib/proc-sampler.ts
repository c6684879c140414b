// Memory and CPU of another process from Linux /proc, sampled on a timer: VmRSS and VmHWM (peak
// RSS) from /proc/<pid>/status, utime + stime from /proc/<pid>/stat in clock ticks (CLK_TCK is
// 100 on Linux x86-64 and arm64, which is all this bench runs on).
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;
const KIB = 1024;
const MIB = 1024 * 1024;

export interface ProcSample {
  /** Bench clock, ms. */
  atMs: number;
  rssMiB: number;
  /** Peak RSS of the process's whole life so far. */
  hwmMiB: number;
  /** User + system CPU since the process started, seconds. */
  cpuSeconds: number;
}

/** One reading, or undefined when the process is gone. */
export function readProc(pid: number, atMs: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After ')' the state is field 3, so utime (field 14) is index 11 and stime (15) index 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { atMs, rssMiB: statusKiB(status, 'VmRSS') * KIB / MIB, hwmMiB: statusKiB(status, 'VmHWM') * KIB / MIB, cpuSeconds: ticks / CLK_TCK };
  } catch {
    return undefined;
  }
}

function statusKiB(status: string, key: string): number {
  const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m?.[1] ? Number(m[1]) : 0;
}

/** Samples one process every `intervalMs` until stop(); `now` is the bench clock in ms. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly now: () => number,
    intervalMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Takes a last sample and stops. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** Peak RSS seen by the kernel over the process's life (VmHWM of the last sample), MiB. */
  peakRssMiB(): number {
    return this.samples.reduce((m, s) => Math.max(m, s.hwmMiB, s.rssMiB), 0);
  }

  /** CPU seconds since the process started, at the last sample. */
  cpuSecondsTotal(): number {
    return this.samples[this.samples.length - 1]?.cpuSeconds ?? 0;
  }

  /** CPU seconds the process used between the bench-clock instants `fromMs` and `toMs`. */
  cpuSecondsBetween(fromMs: number, toMs: number): number {
    const at = (t: number): number => {
      let best = this.samples[0];
      for (const s of this.samples) if (s.atMs <= t) best = s;
      return best?.cpuSeconds ?? 0;
    };
    return Math.max(0, at(toMs) - at(fromMs));
  }

  /** CPU use per second (1.0 = one core busy) between consecutive samples, as [ms, cores]. */
  cpuSeries(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      if (!a || !b || b.atMs <= a.atMs) continue;
      out.push([b.atMs, (b.cpuSeconds - a.cpuSeconds) / ((b.atMs - a.atMs) / 1000)]);
    }
    return out;
  }

  private sample(): void {
    const s = readProc(this.pid, this.now());
    if (s) this.samples.push(s);
  }
}
