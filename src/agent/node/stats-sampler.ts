// Live usage of this node's containers (docs/monitoring.md, "Live stats"): every `intervalMs` the
// driver's one-shot stats for each running container, kept in a ring per container in memory (15
// minutes at 10 s by default). Nothing of it rides on the heartbeat or the store: the server reads
// the rings through the agent's endpoint (`/nodes/NODE/v1/stats`) and scrapes its metrics
// (`/nodes/NODE/v1/metrics`, cAdvisor's names and labels). A container's series go when it does.
import type { Logger } from 'pino';
import { describeError, sleep } from '../../core/index.js';
import type { ContainerUsage, Driver } from '../../drivers/driver.js';
import type { LiveContainer } from '../instance-supervisor.js';

/** One sample: counters as they stand, gauges now, and the CPU rate over the last interval. */
export interface UsageSample extends ContainerUsage {
  at: string;
  /** Cores used on average since the previous sample; absent on the first. */
  cpuCores?: number | undefined;
}

export interface ContainerSeries {
  namespace: string;
  instance: string;
  service: string;
  container: string;
  id: string;
  requests: LiveContainer['requests'];
  samples: UsageSample[];
}

export interface StatsSamplerOptions {
  driver: Driver;
  /** The containers to sample now. */
  list: () => LiveContainer[];
  logger: Logger;
  /** Default 10 s; 0 turns sampling off (hollow nodes). */
  intervalMs?: number | undefined;
  /** Samples kept per container; default 90 (15 minutes at 10 s). */
  keep?: number | undefined;
  /** Stats calls in flight at once; default 8. */
  concurrency?: number | undefined;
}

export class StatsSampler {
  private readonly series = new Map<string, ContainerSeries>();
  /** Told once when the next round has finished (stream readers waiting for new samples). */
  private readonly waiters = new Set<() => void>();
  /** How long the last round took, ms (its cost, for the bench). */
  lastRoundMs = 0;

  /** Resolves when the next round has finished, or after `timeoutMs`, whichever comes first. */
  nextRound(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  constructor(private readonly opts: StatsSamplerOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const interval = this.opts.intervalMs ?? 10_000;
    if (interval <= 0) return;
    while (!signal.aborted) {
      const started = performance.now();
      try {
        await this.sampleOnce(signal);
      } catch (e) {
        if (!signal.aborted) this.opts.logger.warn({ err: describeError(e) }, 'stats round failed');
      }
      this.lastRoundMs = performance.now() - started;
      await sleep(Math.max(0, interval - this.lastRoundMs), signal).catch(() => undefined);
    }
  }

  /** One round: every running container once; containers gone since lose their series. */
  async sampleOnce(signal?: AbortSignal): Promise<void> {
    const live = this.opts.list();
    const ids = new Set(live.map((c) => c.id));
    for (const id of this.series.keys()) if (!ids.has(id)) this.series.delete(id);
    const keep = this.opts.keep ?? 90;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < live.length && !signal?.aborted) {
        const c = live[next++]!;
        let usage: ContainerUsage | undefined;
        try {
          usage = await this.opts.driver.stats(c.id);
        } catch (e) {
          this.opts.logger.debug({ id: c.id.slice(0, 12), err: describeError(e) }, 'stats failed');
          continue;
        }
        if (!usage) {
          this.series.delete(c.id);
          continue;
        }
        const now = Date.now();
        let s = this.series.get(c.id);
        if (!s) {
          s = { namespace: c.namespace, instance: c.instance, service: c.service, container: c.container, id: c.id, requests: c.requests, samples: [] };
          this.series.set(c.id, s);
        }
        const prev = s.samples.at(-1);
        const dt = prev ? (now - Date.parse(prev.at)) / 1000 : 0;
        const cpuCores = prev && dt > 0 && usage.cpuSeconds >= prev.cpuSeconds ? (usage.cpuSeconds - prev.cpuSeconds) / dt : undefined;
        s.samples.push({ at: new Date(now).toISOString(), ...usage, ...(cpuCores !== undefined ? { cpuCores: Math.round(cpuCores * 1000) / 1000 } : {}) });
        if (s.samples.length > keep) s.samples.splice(0, s.samples.length - keep);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 8, live.length) }, worker));
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * The node's usage now: the latest sample of every container (cores as millicores, working
   * set), and how many containers; undefined before any container has a CPU rate.
   */
  totals(now = new Date()): { cpu: number; memory: number; containers: number; at: string } | undefined {
    let cpu = 0;
    let memory = 0;
    let containers = 0;
    let rated = false;
    for (const s of this.series.values()) {
      const last = s.samples.at(-1);
      if (!last) continue;
      containers++;
      memory += last.memoryWorkingSetBytes;
      if (last.cpuCores !== undefined) {
        cpu += last.cpuCores;
        rated = true;
      }
    }
    if (!rated && containers > 0) return undefined;
    return { cpu: Math.round(cpu * 1000), memory, containers, at: now.toISOString() };
  }

  /** Series (samples at or after `since`), optionally of one instance. */
  list(filter: { namespace?: string | undefined; instance?: string | undefined; since?: number | undefined } = {}): ContainerSeries[] {
    const out: ContainerSeries[] = [];
    for (const s of this.series.values()) {
      if (filter.namespace !== undefined && s.namespace !== filter.namespace) continue;
      if (filter.instance !== undefined && s.instance !== filter.instance) continue;
      const since = filter.since;
      out.push({ ...s, samples: since === undefined ? [...s.samples] : s.samples.filter((x) => Date.parse(x.at) >= since) });
    }
    return out;
  }

  /** The latest sample of every container in Prometheus' text format, with cAdvisor's names and labels. */
  metricsText(): string {
    const families: [name: string, type: 'counter' | 'gauge', help: string, value: (s: UsageSample) => number | undefined][] = [
      ['container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.', (s) => s.cpuSeconds],
      ['container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', (s) => s.memoryWorkingSetBytes],
      ['container_memory_rss', 'gauge', 'Size of RSS in bytes.', (s) => s.memoryRssBytes],
      ['container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.', (s) => s.memoryLimitBytes],
      ['container_network_receive_bytes_total', 'counter', 'Cumulative count of bytes received.', (s) => s.networkRxBytes],
      ['container_network_transmit_bytes_total', 'counter', 'Cumulative count of bytes transmitted.', (s) => s.networkTxBytes],
      ['container_fs_reads_bytes_total', 'counter', 'Cumulative count of bytes read.', (s) => s.blockReadBytes],
      ['container_fs_writes_bytes_total', 'counter', 'Cumulative count of bytes written.', (s) => s.blockWriteBytes],
      ['container_processes', 'gauge', 'Number of processes running inside the container.', (s) => s.pids],
    ];
    const lines: string[] = [];
    for (const [name, type, help, value] of families) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const s of this.series.values()) {
        const last = s.samples.at(-1);
        const v = last ? value(last) : undefined;
        if (v === undefined) continue;
        const labels = { id: `/docker/${s.id}`, name: s.id.slice(0, 12), namespace: s.namespace, service: s.service, instance: s.instance, container: s.container };
        const text = Object.entries(labels)
          .map(([k, val]) => `${k}="${val.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
          .join(',');
        lines.push(`${name}{${text}} ${v}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
