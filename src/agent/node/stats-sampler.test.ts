import { describe, expect, it } from 'vitest';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import type { ContainerUsage } from '../../drivers/driver.js';
import { aContainer, silentLogger } from '../test-helpers.js';
import type { LiveContainer } from '../instance-supervisor.js';
import { StatsSampler } from './stats-sampler.js';

const usage = (cpuSeconds: number, memory: number): ContainerUsage => ({
  cpuSeconds,
  memoryWorkingSetBytes: memory,
  memoryRssBytes: memory,
  memoryLimitBytes: 1024,
  networkRxBytes: 10,
  networkTxBytes: 20,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  pids: 2,
});

async function setup(): Promise<{ driver: FakeDriver; live: LiveContainer[]; id: string }> {
  const driver = new FakeDriver({ nodeName: 'n1' });
  const id = await driver.create({ instance: { namespace: 'default', name: 'web-abcde', uid: 'u1' }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'web-abcde' });
  await driver.start(id);
  const live: LiveContainer[] = [{ namespace: 'default', instance: 'web-abcde', service: 'web', container: 'app', id, requests: { cpuMillis: 500, memoryBytes: 1024 } }];
  return { driver, live, id };
}

describe('StatsSampler', () => {
  it('keeps a capped ring per container and derives cores from the CPU counter', async () => {
    const { driver, live } = await setup();
    const sampler = new StatsSampler({ driver, list: () => live, logger: silentLogger(), keep: 3 });
    for (let i = 0; i < 5; i++) {
      driver.setUsage('web-abcde', usage(i * 0.5, 100 + i));
      await sampler.sampleOnce();
      await new Promise((r) => setTimeout(r, 20));
    }
    const [series] = sampler.list();
    expect(series?.samples.map((s) => s.memoryWorkingSetBytes)).toEqual([102, 103, 104]);
    // 0.5 s of CPU per ~20 ms: many cores (the rate is what the counter says, not capped).
    expect(series?.samples.every((s) => (s.cpuCores ?? 0) > 1)).toBe(true);
    expect(sampler.list({ instance: 'other' })).toEqual([]);
    expect(sampler.list({ since: Date.now() + 60_000 })[0]?.samples).toEqual([]);
  });

  it('totals() sums the latest sample of every container for the Node status, once a rate is known', async () => {
    const { driver, live } = await setup();
    const sampler = new StatsSampler({ driver, list: () => live, logger: silentLogger() });
    expect(sampler.totals(new Date(0))).toEqual({ cpu: 0, memory: 0, containers: 0, at: '1970-01-01T00:00:00.000Z' });
    driver.setUsage('web-abcde', usage(1, 100));
    await sampler.sampleOnce();
    expect(sampler.totals()).toBeUndefined(); // one sample: no cpu rate yet
    await new Promise((r) => setTimeout(r, 50));
    driver.setUsage('web-abcde', usage(1.05, 300));
    await sampler.sampleOnce();
    const t = sampler.totals()!;
    expect(t.containers).toBe(1);
    expect(t.memory).toBe(300);
    expect(t.cpu).toBeGreaterThan(100); // 0.05 s of CPU in ~50 ms: about a core
  });

  it('nextRound() wakes when a round finishes, or gives up after its timeout', async () => {
    const { driver, live } = await setup();
    const sampler = new StatsSampler({ driver, list: () => live, logger: silentLogger() });
    driver.setUsage('web-abcde', usage(1, 100));
    let woke = false;
    const waiting = sampler.nextRound(10_000).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(woke).toBe(false);
    await sampler.sampleOnce();
    await waiting;
    expect(woke).toBe(true);
    const started = Date.now();
    await sampler.nextRound(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("the first sample has no rate; metrics carry cAdvisor's names and labels, and go with the container", async () => {
    const { driver, live, id } = await setup();
    driver.setUsage('web-abcde', usage(1, 100));
    const sampler = new StatsSampler({ driver, list: () => live, logger: silentLogger() });
    await sampler.sampleOnce();
    expect(sampler.list()[0]?.samples[0]?.cpuCores).toBeUndefined();
    const text = sampler.metricsText();
    expect(text).toContain('# TYPE container_cpu_usage_seconds_total counter');
    expect(text).toContain(`container_memory_working_set_bytes{id="/docker/${id}",name="${id.slice(0, 12)}",namespace="default",service="web",instance="web-abcde",container="app"} 100`);
    live.splice(0);
    await sampler.sampleOnce();
    expect(sampler.list()).toEqual([]);
    expect(sampler.metricsText()).not.toContain('web-abcde');
  });
});
