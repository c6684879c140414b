import { describe, expect, it, vi } from 'vitest';
import type { DriverEvent } from '../driver.js';
import { aLaunch, aSidecar } from '../test-helpers.js';
import { FakeDriver } from './fake-driver.js';

const aFakeDriver = (opts: Partial<ConstructorParameters<typeof FakeDriver>[0]> = {}) => new FakeDriver({ nodeName: 'hollow-1', ...opts });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('FakeDriver', () => {
  it('reports its capacity, with defaults of 32 cores and 128Gi', async () => {
    expect(await aFakeDriver().fingerprint()).toMatchObject({ driver: 'fake', cpu: 32_000, memory: 128 * 2 ** 30 });
    expect(await aFakeDriver({ cpu: 4000, memory: 2 ** 30 }).fingerprint()).toMatchObject({ cpu: 4000, memory: 2 ** 30 });
  });

  it('creates, starts, stops and destroys a container, idempotently', async () => {
    const d = aFakeDriver();
    const id = await d.create(aLaunch());
    expect(await d.inspect(id)).toMatchObject({ running: false, exitCode: 0, container: 'main', instance: { name: 'web-ab12c' } });
    const started = await d.start(id);
    expect(started).toMatchObject({ running: true });
    expect(started.startedAt).toBeDefined();
    await d.stop(id, 10);
    await d.stop(id, 10);
    expect(await d.inspect(id)).toMatchObject({ running: false, exitCode: 143 });
    await d.destroy(id);
    await d.destroy(id);
    expect(await d.inspect(id)).toBeUndefined();
  });

  it('ends a container whose command is `sleep <seconds>` with exit code 0 that long after its start, as a batch job; other commands run until stopped', async () => {
    vi.useFakeTimers();
    try {
      const d = aFakeDriver();
      const job = await d.create(aLaunch({ spec: { name: 'main', image: 'batch:1', command: ['sleep', '2'] } }));
      const idle = await d.create(aLaunch({ spec: { name: 'main', image: 'batch:1', command: ['sleep', '2147483647'] } }));
      const web = await d.create(aLaunch());
      for (const id of [job, idle, web]) await d.start(id);
      await vi.advanceTimersByTimeAsync(1999);
      expect((await d.inspect(job))?.running).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(await d.inspect(job)).toMatchObject({ running: false, exitCode: 0 });
      // Started again, it sleeps its 2 s again; stopped before, it ends by the signal and no timer fires later.
      await d.start(job);
      await d.stop(job, 10);
      await vi.advanceTimersByTimeAsync(5000);
      expect(await d.inspect(job)).toMatchObject({ running: false, exitCode: 143 });
      expect((await d.inspect(idle))?.running).toBe(true);
      expect((await d.inspect(web))?.running).toBe(true);
      // A ghost's process is gone: its sleep does not end it (nothing could say so).
      const ghost = await d.create(aLaunch({ spec: { name: 'main', image: 'batch:1', command: ['sleep', '1'] } }));
      await d.start(ghost);
      d.makeGhost(ghost);
      await vi.advanceTimersByTimeAsync(2000);
      expect((await d.inspect(ghost))?.running).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('allocates host ports from 30000 on the first container only, honouring fixed ones', async () => {
    const d = aFakeDriver();
    const first = await d.create(
      aLaunch({ publish: [{ name: 'http', containerPort: 80, protocol: 'tcp' }, { name: 'admin', containerPort: 81, protocol: 'tcp', hostPort: 8081 }] }),
    );
    const side = await d.create(aSidecar(first));
    const again = await d.create(aLaunch({ publish: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }));
    expect((await d.inspect(first))?.hostPorts).toEqual({ http: 30000, admin: 8081 });
    expect((await d.inspect(side))?.hostPorts).toEqual({});
    expect((await d.inspect(again))?.hostPorts).toEqual({ http: 30001 });
  });

  it('fails for missing images in ensureImage and create', async () => {
    const d = aFakeDriver({ missingImages: ['nope:1'] });
    await expect(d.ensureImage('nope:1')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('image "nope:1" not found') });
    await expect(d.create(aLaunch({ spec: { image: 'nope:1' } }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(d.ensureImage('busybox:1')).resolves.toBeUndefined();
  });

  it('fails starts at the configured rate, the same way for the same seed', async () => {
    const outcomes = async (seed: number) => {
      const d = aFakeDriver({ failureRate: 0.5, seed });
      const results: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        const id = await d.create(aLaunch());
        results.push(await d.start(id).then(() => true, () => false));
      }
      return results;
    };
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(a.filter(Boolean).length).toBeGreaterThan(5);
    expect(a.filter((x) => !x).length).toBeGreaterThan(5);
  });

  it('leaves a failed start exited with an error', async () => {
    const d = aFakeDriver({ failureRate: 1 });
    const id = await d.create(aLaunch());
    await expect(d.start(id)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await d.inspect(id)).toMatchObject({ running: false, exitCode: 128, error: expect.stringContaining('simulated') });
  });

  it('waits startLatencyMs before a start completes', async () => {
    const d = aFakeDriver({ startLatencyMs: 50 });
    const id = await d.create(aLaunch());
    const t0 = Date.now();
    await d.start(id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('emits start, oom and die events until the signal aborts', async () => {
    const d = aFakeDriver();
    const ac = new AbortController();
    const seen: DriverEvent[] = [];
    const done = (async () => {
      for await (const e of d.events(ac.signal)) {
        seen.push(e);
        if (seen.length === 3) ac.abort();
      }
    })();
    const id = await d.create(aLaunch());
    await d.start(id);
    d.crash(id, 137, true);
    await done;
    expect(seen).toEqual([{ id, action: 'start', instanceUid: 'uid-1' }, { id, action: 'oom', instanceUid: 'uid-1' }, { id, action: 'die', instanceUid: 'uid-1' }]);
    expect(await d.inspect(id)).toMatchObject({ running: false, exitCode: 137, oomKilled: true });
  });

  it('ends event streams on close', async () => {
    const d = aFakeDriver();
    const events = collect(d.events(new AbortController().signal));
    await d.close();
    expect(await events).toEqual([]);
  });

  it('recovers every container it holds', async () => {
    const d = aFakeDriver();
    const a = await d.create(aLaunch());
    const b = await d.create(aSidecar(a));
    await d.start(a);
    expect((await d.recover()).map((s) => [s.id, s.running])).toEqual([[a, true], [b, false]]);
  });

  it('probes ok by default and as told per instance, and never for a stopped container', async () => {
    const d = aFakeDriver();
    const id = await d.create(aLaunch());
    const state = await d.start(id);
    const check = { http: { port: 'http', path: '/health' } };
    expect(await d.probe(state, [], check, 1000)).toEqual({ ok: true });
    d.setProbeResult('web-ab12c', false);
    expect(await d.probe(state, [], check, 1000)).toMatchObject({ ok: false, message: expect.stringContaining('GET /health -> 500') });
    d.setProbeResult('web-ab12c', true);
    await d.stop(id, 1);
    expect(await d.probe(state, [], check, 1000)).toMatchObject({ ok: false });
  });

  it('execs with the configured result and refuses a stopped container', async () => {
    const d = aFakeDriver();
    const id = await d.create(aLaunch());
    await expect(d.exec(id, ['true'], 1000)).rejects.toMatchObject({ code: 'CONFLICT' });
    await d.start(id);
    expect(await d.exec(id, ['true'], 1000)).toEqual({ exitCode: 0, output: '' });
    d.setExecResult('web-ab12c', { exitCode: 3, output: 'bad' });
    expect(await d.exec(id, ['true'], 1000)).toEqual({ exitCode: 3, output: 'bad' });
  });

  it('yields a few log lines, honours tail, and a follow ends when the container dies', async () => {
    const d = aFakeDriver();
    const id = await d.create(aLaunch());
    await d.start(id);
    const all = await collect(d.logs(id, { follow: false }));
    expect(all.length).toBeGreaterThan(1);
    expect(await collect(d.logs(id, { follow: false, tail: 1 }))).toEqual(all.slice(-1));
    const following = d.logs(id, { follow: true })[Symbol.asyncIterator]();
    const got: string[] = [];
    for (let i = 0; i < all.length; i++) got.push(((await following.next()) as IteratorYieldResult<string>).value);
    expect(got).toEqual(all);
    const end = following.next();
    d.crash(id, 1);
    expect(await end).toMatchObject({ done: true });

    const d2 = aFakeDriver();
    const gone = await d2.create(aLaunch());
    expect(await collect(d2.logs(gone, { follow: true }))).toHaveLength(3);
  });

  it('keeps no listeners behind after streams end', async () => {
    const d = aFakeDriver();
    const id = await d.create(aLaunch());
    await d.start(id);
    const ac = new AbortController();
    const follow = collect(d.logs(id, { follow: true, signal: ac.signal }));
    const events = collect(d.events(ac.signal));
    ac.abort();
    await Promise.all([follow, events]);
    expect((d as unknown as { listeners: Set<unknown> }).listeners.size).toBe(0);
  });
});
