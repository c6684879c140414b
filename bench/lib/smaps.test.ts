import { describe, expect, it } from 'vitest';
import { describeSplit, parseSmaps, splitResident } from './smaps.js';

/** One smaps entry: the header line and the fields the parser reads (and one it must skip). */
function mapping(start: number, end: number, perms: string, path: string, rssKiB: number): string {
  const hex = (n: number): string => n.toString(16).padStart(12, '0');
  return [
    `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0${path ? `                          ${path}` : ''}`,
    `Size:            ${(end - start) / 1024} kB`,
    `Rss:             ${rssKiB} kB`,
    `Pss:             ${rssKiB} kB`,
    'VmFlags: rd wr mr mw me ac sd',
  ].join('\n');
}

const MIB = 2 ** 20;
const ARENA = 64 * MIB;

describe('smaps', () => {
  it('parses each mapping with its range, permissions, path and resident size', () => {
    const maps = parseSmaps([mapping(0x400000, 0x500000, 'r-xp', '/usr/bin/node', 2048), mapping(0x600000, 0x700000, 'rw-p', '[heap]', 512)].join('\n'));
    expect(maps).toEqual([
      { start: 0x400000, end: 0x500000, perms: 'r-xp', path: '/usr/bin/node', rssKiB: 2048 },
      { start: 0x600000, end: 0x700000, perms: 'rw-p', path: '[heap]', rssKiB: 512 },
    ]);
  });

  it('sorts resident memory into the main arena, thread arenas, other anonymous and files', () => {
    const text = [
      mapping(0x400000, 0x500000, 'r-xp', '/usr/bin/node', 10 * 1024),
      mapping(0x1000000, 0x9000000, 'rw-p', '[heap]', 100 * 1024),
      // A thread arena: 64 MiB aligned, its used part then the reserved rest, 64 MiB in all.
      mapping(3 * ARENA, 3 * ARENA + 8 * MIB, 'rw-p', '', 6 * 1024),
      mapping(3 * ARENA + 8 * MIB, 4 * ARENA, '---p', '', 0),
      // Aligned too, but 128 MiB with its reserve: not an arena (V8 pages, a large mmap'd malloc).
      mapping(5 * ARENA, 5 * ARENA + 64 * MIB, 'rw-p', '', 40 * 1024),
      mapping(5 * ARENA + 64 * MIB, 7 * ARENA, '---p', '', 0),
      // Not aligned: anonymous.
      mapping(8 * ARENA + MIB, 8 * ARENA + 9 * MIB, 'rw-p', '', 7 * 1024),
      mapping(9 * ARENA, 9 * ARENA + MIB, 'rw-p', '[stack]', 1024),
    ].join('\n');
    const split = splitResident(parseSmaps(text));
    expect(split).toEqual({ brkMiB: 100, arenasMiB: 6, arenas: 1, anonMiB: 48, fileMiB: 10, totalMiB: 164 });
    expect(describeSplit(split)).toBe('malloc main arena (brk) 100, 1 thread-arena heaps 6, other anonymous 48, files 10 MiB');
    expect(describeSplit(undefined)).toBe('not readable');
  });
});
