// Whole cores for containers with resources.cpuMode cpuset. The node's cores (what the cpuset
// cgroup lets Docker use) less the reserved ones (--reserved-cores) form the pool; each owner
// (`<instance uid>/<container>`) holds its cores until released. The scheduler counts cores from
// the Node's status.cpuset.allocatable, so it should never ask for more than are free; when it
// does (a stale view), allocate names what was asked and what is free instead of sharing a core.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { formatCpuList, parseCpuList } from '../../core/index.js';

export class CpusetAllocator {
  private readonly pool: readonly number[];
  private readonly held = new Map<string, readonly number[]>();
  private readonly taken = new Set<number>();

  constructor(
    readonly cpus: readonly number[],
    readonly reserved: readonly number[],
  ) {
    const skip = new Set(reserved);
    this.pool = [...new Set(cpus)].filter((c) => !skip.has(c)).sort((a, b) => a - b);
  }

  /** Cores that may be pinned at all (the node reports it as status.cpuset.allocatable). */
  get allocatable(): number {
    return this.pool.length;
  }

  free(): number[] {
    return this.pool.filter((c) => !this.taken.has(c));
  }

  /** The cores `owner` holds, if any. */
  holding(owner: string): readonly number[] | undefined {
    return this.held.get(owner);
  }

  /**
   * `count` free cores for `owner` (lowest first), or the ones it holds already. Throws when too
   * few are free, naming both figures.
   */
  allocate(owner: string, count: number): readonly number[] {
    const had = this.held.get(owner);
    if (had) return had;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`cpuset: ${owner} asked for ${count} cores; ask for a whole number of at least 1`);
    const free = this.free();
    if (free.length < count) {
      throw new Error(`cpuset: ${count} whole core${count === 1 ? '' : 's'} asked, ${free.length} free of ${this.pool.length} (cores ${formatCpuList(this.pool) || 'none'}, reserved ${formatCpuList(this.reserved) || 'none'})`);
    }
    const cores = free.slice(0, count);
    this.hold(owner, cores);
    return cores;
  }

  /**
   * After an agent restart: `owner`'s container runs pinned to `cores` already. Kept as they are
   * when none is reserved or held by another; otherwise false (the caller recreates it).
   */
  adopt(owner: string, cores: readonly number[]): boolean {
    if (this.held.has(owner)) return false;
    const inPool = new Set(this.pool);
    if (cores.length === 0 || cores.some((c) => !inPool.has(c) || this.taken.has(c))) return false;
    this.hold(owner, [...cores].sort((a, b) => a - b));
    return true;
  }

  release(owner: string): void {
    const cores = this.held.get(owner);
    if (!cores) return;
    this.held.delete(owner);
    for (const c of cores) this.taken.delete(c);
  }

  /** Releases every owner whose key starts with `prefix` (an instance uid and '/'). */
  releasePrefix(prefix: string): void {
    for (const owner of [...this.held.keys()]) if (owner.startsWith(prefix)) this.release(owner);
  }

  private hold(owner: string, cores: readonly number[]): void {
    this.held.set(owner, cores);
    for (const c of cores) this.taken.add(c);
  }
}

/**
 * The cores containers may use on this host: the root cpuset of cgroup v2
 * (`cpuset.cpus.effective`) or v1 (`cpuset/cpuset.effective_cpus`), else every online cpu.
 */
export async function hostCpus(cgroupRoot = '/sys/fs/cgroup'): Promise<number[]> {
  for (const file of [`${cgroupRoot}/cpuset.cpus.effective`, `${cgroupRoot}/cpuset/cpuset.effective_cpus`, `${cgroupRoot}/cpuset/cpuset.cpus`]) {
    try {
      const cpus = parseCpuList(await readFile(file, 'utf8'));
      if (cpus.length > 0) return cpus;
    } catch {
      // not this cgroup layout
    }
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}
