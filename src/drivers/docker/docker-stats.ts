// A container's usage from Docker's stats API, one shot (`stream=false&one-shot=true`: no wait for
// a second sample; dockerd reads the cgroup files, v1 or v2, and the network namespace for us).
// Working set as docker stats and cAdvisor count it: usage less inactive file pages
// (`total_inactive_file` on cgroup v1, `inactive_file` on v2).
import type Docker from 'dockerode';
import { dockerStatus } from './docker-errors.js';
import type { ContainerUsage } from '../driver.js';

interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  pids_stats?: { current?: number };
  read?: string;
}

/** Usage from one stats answer; undefined when it carries none (a stopped container answers zeros and no read time). */
export function usageOf(s: DockerStats): ContainerUsage | undefined {
  const mem = s.memory_stats;
  if (!mem || mem.usage === undefined) return undefined;
  const stat = mem.stats ?? {};
  const inactive = stat.total_inactive_file ?? stat.inactive_file ?? 0;
  const nets = s.networks ? Object.values(s.networks) : undefined;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  return {
    cpuSeconds: (s.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
    memoryWorkingSetBytes: Math.max(0, mem.usage - inactive),
    memoryRssBytes: stat.total_rss ?? stat.rss ?? stat.anon ?? 0,
    memoryLimitBytes: mem.limit ?? 0,
    ...(nets && nets.length > 0 ? { networkRxBytes: nets.reduce((a, n) => a + (n.rx_bytes ?? 0), 0), networkTxBytes: nets.reduce((a, n) => a + (n.tx_bytes ?? 0), 0) } : {}),
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: s.pids_stats?.current ?? 0,
  };
}

export async function readStats(docker: Docker, id: string, signal: AbortSignal): Promise<ContainerUsage | undefined> {
  try {
    signal.throwIfAborted();
    const s = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true })) as unknown as DockerStats;
    return usageOf(s);
  } catch (e) {
    if (dockerStatus(e) === 404) return undefined;
    throw e;
  }
}
