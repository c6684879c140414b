// What a hollow node costs in memory: the growth of the process between before the agents
// started and after they all registered, divided by the number of nodes.
import { formatMemory } from '../core/index.js';

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

export function sampleMemory(): MemorySample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

export interface MemoryPerNode {
  rssPerNode: number;
  heapPerNode: number;
}

export function memoryPerNode(before: MemorySample, after: MemorySample, nodes: number): MemoryPerNode {
  const per = (a: number, b: number): number => (nodes > 0 ? Math.max(0, b - a) / nodes : 0);
  return { rssPerNode: per(before.rss, after.rss), heapPerNode: per(before.heapUsed, after.heapUsed) };
}

export function formatMemoryReport(before: MemorySample, after: MemorySample, nodes: number): string {
  const { rssPerNode, heapPerNode } = memoryPerNode(before, after, nodes);
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)}Ki`;
  return `RSS ${formatMemory(after.rss)} (was ${formatMemory(before.rss)}): ${kib(rssPerNode)} per hollow node, of which JS heap ${kib(heapPerNode)}`;
}
