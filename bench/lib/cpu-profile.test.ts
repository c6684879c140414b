import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestProfile, profileLines } from './cpu-profile.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

/** A profile shaped like Node's: (root) over idle, the timers and immediates phases, and a socket callback. */
const NODES = [
  { id: 1, callFrame: frame('(root)'), children: [2, 3, 5, 7, 9] },
  { id: 2, callFrame: frame('(idle)') },
  { id: 3, callFrame: frame('processTimers', 'node:internal/timers'), children: [4] },
  { id: 4, callFrame: frame('tick', 'file:///app/dist/a.js') },
  { id: 5, callFrame: frame('socketOnData', 'node:net'), children: [6] },
  { id: 6, callFrame: frame('handle', 'file:///app/dist/h.js') },
  { id: 7, callFrame: frame('processImmediate', 'node:internal/timers'), children: [8] },
  { id: 8, callFrame: frame('flush', 'file:///app/dist/w.js') },
  { id: 9, callFrame: frame('(garbage collector)') },
];

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function digestOf(samples: number[]) {
  dir = await mkdtemp(join(tmpdir(), 'gantry-cpu-profile-test-'));
  const path = join(dir, 'p.cpuprofile');
  await writeFile(path, JSON.stringify({ nodes: NODES, startTime: 0, endTime: samples.length * 10_000, samples, timeDeltas: samples.map(() => 10_000) }));
  return digestProfile(path);
}

describe('digestProfile', () => {
  it('cuts loop turns at idle samples and at the start of a timers or immediates phase', async () => {
    // idle | timers 20 ms, socket callbacks 120 ms | immediates 10 ms | timers 10 ms, callbacks 30 ms | idle
    const d = await digestOf([2, 4, 4, ...Array<number>(12).fill(6), 8, 4, 6, 6, 6, 2]);
    expect(d.totalMs).toBe(210);
    expect(d.idleMs).toBe(20);
    // One turn over 100 ms (140 ms); the 10 ms and 40 ms ones after it are not counted.
    expect(d.long).toMatchObject({ count: 1, longestMs: 140, totalMs: 140 });
    expect(d.long.inclusive).toEqual([
      { name: 'handle dist/h.js:1', ms: 120, share: 85.7 },
      { name: 'tick dist/a.js:1', ms: 20, share: 14.3 },
    ]);
    expect(d.inclusive.map((h) => [h.name, h.ms])).toEqual([
      ['handle dist/h.js:1', 150],
      ['tick dist/a.js:1', 30],
      ['flush dist/w.js:1', 10],
    ]);
    expect(profileLines('p.cpuprofile', d).join('\n')).toContain('loop turns over 100 ms (idle or a timers/immediates phase to the next; what a due timer or a readable socket waited): 1, longest 140 ms, 0.1 s in all');
  });

  it('keeps a collection inside a timer callback in that turn', async () => {
    // timers 60 ms, a GC sample, timers 50 ms more: one 120 ms turn, not two short ones.
    const d = await digestOf([2, ...Array<number>(6).fill(4), 9, ...Array<number>(5).fill(4), 2]);
    expect(d.long).toMatchObject({ count: 1, longestMs: 120 });
  });

  it('cuts where an immediates phase follows a timers phase directly', async () => {
    // timers 110 ms then immediates 110 ms with nothing between: two long turns.
    const d = await digestOf([2, ...Array<number>(11).fill(4), ...Array<number>(11).fill(8), 2]);
    expect(d.long).toMatchObject({ count: 2, longestMs: 110, totalMs: 220 });
  });

  it('does not count a long run of short turns as one stall', async () => {
    // Eight turns of timers 10 ms + callbacks 60 ms, with no idle sample anywhere.
    const turn = [4, 6, 6, 6, 6, 6, 6];
    const d = await digestOf(Array.from({ length: 8 }, () => turn).flat());
    expect(d.idleMs).toBe(0);
    expect(d.long.count).toBe(0);
  });
});
