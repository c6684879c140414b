// What a hollow node costs in memory: the growth of the process between before the agents
// started and after they all registered, divided by the number of nodes.
import { getHeapStatistics } from 'node:v8';
import { formatMemory } from '../core/index.js';

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/**
 * Never throws: reading RSS opens /proc/self/stat, which fails with EMFILE in a process that ran out
 * of file descriptors, and a report must not take the simulation down (it did once, at 10,000 nodes).
 */
export function sampleMemory(): MemorySample {
  try {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed };
  } catch {
    return { rss: Number.NaN, heapUsed: getHeapStatistics().used_heap_size };
  }
}

export interface MemoryPerNode {
  rssPerNode: number;
  heapPerNode: number;
}

function memoryPerNode(before: MemorySample, after: MemorySample, nodes: number): MemoryPerNode {
  const per = (a: number, b: number): number => (nodes > 0 ? Math.max(0, b - a) / nodes : 0);
  return { rssPerNode: per(before.rss, after.rss), heapPerNode: per(before.heapUsed, after.heapUsed) };
}

export function formatMemoryReport(before: MemorySample, after: MemorySample, nodes: number): string {
  const { rssPerNode, heapPerNode } = memoryPerNode(before, after, nodes);
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)}Ki`;
  if (Number.isNaN(before.rss) || Number.isNaN(after.rss)) return `RSS unknown (could not read it); JS heap ${kib(heapPerNode)} per hollow node`;
  return `RSS ${formatMemory(after.rss)} (was ${formatMemory(before.rss)}): ${kib(rssPerNode)} per hollow node, of which JS heap ${kib(heapPerNode)}`;
}
