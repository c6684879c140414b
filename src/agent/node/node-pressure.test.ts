import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, parsePressureThresholds, pressureConditions, readHost, responsiveCondition, type HostReadings } from './node-pressure.js';

const GiB = 2 ** 30;
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function fakeProc(o: { memTotalKb: number; memAvailableKb: number; tasks: number; pidMax: number; threadsMax: number }): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'gantry-fake-proc-'));
  await mkdir(join(dir, 'sys/kernel'), { recursive: true });
  await writeFile(join(dir, 'meminfo'), `MemTotal:       ${o.memTotalKb} kB\nMemFree:         1000 kB\nMemAvailable:   ${o.memAvailableKb} kB\n`);
  await writeFile(join(dir, 'loadavg'), `0.52 0.58 0.59 3/${o.tasks} 12345\n`);
  await writeFile(join(dir, 'sys/kernel/pid_max'), `${o.pidMax}\n`);
  await writeFile(join(dir, 'sys/kernel/threads-max'), `${o.threadsMax}\n`);
  return dir;
}

const status = (r: HostReadings, type: string): string | undefined => pressureConditions(r).find((c) => c.type === type)?.status;

describe('node pressure', () => {
  it('reads memory, threads against min(pid_max, threads-max) and the disks of the given paths from a /proc', async () => {
    const proc = await fakeProc({ memTotalKb: 8 * 1024 * 1024, memAvailableKb: 200 * 1024, tasks: 30_000, pidMax: 32_768, threadsMax: 100_000 });
    const r = await readHost([tmpdir(), tmpdir()], proc);
    expect(r.memory).toEqual({ availableBytes: 200 * 1024 * 1024, totalBytes: 8 * GiB });
    expect(r.pids).toEqual({ used: 30_000, limit: 32_768 });
    expect(r.filesystems).toHaveLength(1);
    expect(r.filesystems[0]?.bytesTotal).toBeGreaterThan(0);
    const conditions = pressureConditions(r);
    expect(conditions.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'LowMemory' });
    expect(conditions.find((c) => c.type === 'PIDPressure')).toMatchObject({
      status: 'True',
      message: '30000 threads of 32768 allowed (min of kernel.pid_max and kernel.threads-max; 92%; pressure over 90%)',
    });
  });

  it('leaves out what it cannot read instead of guessing', async () => {
    const r = await readHost(['/no/such/path'], '/no/such/proc');
    expect(r).toEqual({ memory: undefined, pids: undefined, filesystems: [] });
    expect(pressureConditions(r)).toEqual([]);
  });

  it('judges each threshold at its edge: bytes, inodes, memory, threads', () => {
    const fs = (bytesFree: number, inodesFree = 1000) => ({ path: '/var/lib/docker', bytesFree, bytesTotal: 100 * GiB, inodesFree, inodesTotal: 10_000 });
    const base: HostReadings = { memory: { availableBytes: 5 * GiB, totalBytes: 10 * GiB }, pids: { used: 100, limit: 1000 }, filesystems: [fs(50 * GiB)] };
    expect(pressureConditions(base).map((c) => c.status)).toEqual(['False', 'False', 'False']);
    expect(status({ ...base, filesystems: [fs(9 * GiB)] }, 'DiskPressure')).toBe('True');
    expect(status({ ...base, filesystems: [fs(11 * GiB)] }, 'DiskPressure')).toBe('False');
    expect(status({ ...base, filesystems: [fs(50 * GiB, 400)] }, 'DiskPressure')).toBe('True');
    expect(status({ ...base, filesystems: [fs(50 * GiB), fs(1 * GiB)] }, 'DiskPressure')).toBe('True');
    expect(status({ ...base, memory: { availableBytes: 0.4 * GiB, totalBytes: 10 * GiB } }, 'MemoryPressure')).toBe('True');
    expect(status({ ...base, pids: { used: 901, limit: 1000 } }, 'PIDPressure')).toBe('True');
    expect(status({ ...base, pids: { used: 900, limit: 1000 } }, 'PIDPressure')).toBe('False');
  });

  it('parses --pressure, keeping defaults for what it does not name, and names the mistake', () => {
    expect(parsePressureThresholds(undefined)).toEqual(DEFAULT_THRESHOLDS);
    expect(parsePressureThresholds('disk=20%, pids=75%')).toEqual({ ...DEFAULT_THRESHOLDS, diskFree: 0.2, pidsUsed: 0.75 });
    expect(() => parsePressureThresholds('disk=20')).toThrow(/--pressure "disk=20" must be disk=N%/);
    expect(() => parsePressureThresholds('cpu=5%')).toThrow(/--pressure "cpu=5%"/);
    expect(() => parsePressureThresholds('memory=100%')).toThrow(/between 0 and 100/);
    expect(parsePressureThresholds('ping=2s').pingMs).toBe(2000);
    expect(parsePressureThresholds('ping=250ms').pingMs).toBe(250);
    expect(() => parsePressureThresholds('ping=fast')).toThrow(/or ping=Ns/);
  });

  it('says the runtime is not responsive when a ping takes longer than the threshold', () => {
    expect(responsiveCondition('docker', 12)).toMatchObject({ type: 'DockerResponsive', status: 'True', message: 'docker answered a ping in 12 ms (not responsive over 5000 ms)' });
    expect(responsiveCondition('docker', 5001)).toMatchObject({ status: 'False', reason: 'SlowPing' });
    expect(responsiveCondition('docker', 300, { ...DEFAULT_THRESHOLDS, pingMs: 250 }).status).toBe('False');
  });
});
