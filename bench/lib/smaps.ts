// Where a process's resident memory lives, from Linux /proc/<pid>/smaps: the soak's answer to
// "RSS crept outside the JS heap: whose memory is it?". Mappings are sorted into
//   brk      the [heap] mapping: glibc's main malloc arena (the main thread's malloc: SQLite,
//            OpenSSL, V8's own C++ allocations made on the main thread);
//   arenas   anonymous mappings that start on a 64 MiB boundary and, with the reserved
//            (PROT_NONE) mapping right after them, span at most 64 MiB: glibc's per-thread arenas
//            (HEAP_MAX_SIZE on 64-bit), the malloc of libuv's and V8's worker threads;
//   anon     every other anonymous mapping (V8's heap pages, large mallocs served by mmap);
//   file     mappings of files (the node binary, shared libraries, SQLite's WAL index).
// The split is a heuristic on addresses, good enough to say which of the four grew.
import { readFile } from 'node:fs/promises';

const ARENA_BYTES = 64 * 2 ** 20;
const MIB = 2 ** 20;

export interface ResidentSplit {
  brkMiB: number;
  arenasMiB: number;
  /** Thread-arena heaps seen (64 MiB mappings counted in arenasMiB; an arena may own several). */
  arenas: number;
  anonMiB: number;
  fileMiB: number;
  totalMiB: number;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKiB: number;
}

/** The mappings of an smaps text, in address order. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, path: head[4]!.trim(), rssKiB: 0 };
      out.push(cur);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) cur.rssKiB = Number(rss[1]);
  }
  return out;
}

/** The resident split of parsed mappings (see the top of this file). */
export function splitResident(maps: readonly Mapping[]): ResidentSplit {
  let brk = 0;
  let arenas = 0;
  let arenaCount = 0;
  let anon = 0;
  let file = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const kib = m.rssKiB;
    if (m.path === '[heap]') brk += kib;
    else if (m.path === '' && m.start % ARENA_BYTES === 0 && arenaSpan(maps, i) <= ARENA_BYTES && m.perms.startsWith('rw')) {
      arenas += kib;
      arenaCount++;
    } else if (m.path === '' || m.path.startsWith('[')) anon += kib;
    else file += kib;
  }
  const mib = (kib: number): number => Math.round((kib * 1024) / MIB);
  return { brkMiB: mib(brk), arenasMiB: mib(arenas), arenas: arenaCount, anonMiB: mib(anon), fileMiB: mib(file), totalMiB: mib(brk + arenas + anon + file) };
}

/** Bytes from mapping i's start to the end of the reserved (---p) mapping that directly follows it, if any. */
function arenaSpan(maps: readonly Mapping[], i: number): number {
  const m = maps[i]!;
  const next = maps[i + 1];
  const end = next && next.start === m.end && next.path === '' && next.perms.startsWith('---') ? next.end : m.end;
  return end - m.start;
}

/** The resident split of a live process, or undefined when it cannot be read (gone, not Linux). */
export async function residentSplit(pid: number): Promise<ResidentSplit | undefined> {
  const text = await readFile(`/proc/${pid}/smaps`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : splitResident(parseSmaps(text));
}

/** One line: "malloc main arena (brk) 120, 4 thread-arena heaps 210, other anonymous 900, files 60 MiB". */
export function describeSplit(s: ResidentSplit | undefined): string {
  if (!s) return 'not readable';
  return `malloc main arena (brk) ${s.brkMiB}, ${s.arenas} thread-arena heaps ${s.arenasMiB}, other anonymous ${s.anonMiB}, files ${s.fileMiB} MiB`;
}
