import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../core/index.js';
import { EventReporter, MAX_RIDE_WAIT_MS, type EventReporterOptions } from './event-reporter.js';
import { FakeGantryClient, silentLogger, waitFor } from '../test-helpers.js';

const reporters: EventReporter[] = [];
function aReporter(client: FakeGantryClient, over: Partial<EventReporterOptions> = {}): EventReporter {
  const r = new EventReporter({ client, logger: silentLogger(), source: 'agent/n1', flushIntervalMs: 30, ...over });
  reporters.push(r);
  return r;
}
afterEach(async () => {
  for (const r of reporters.splice(0)) await r.stop();
});

const inst = (name: string) => ({ kind: 'Instance' as const, namespace: 'default', name });

/** A logger whose lines a test can read. */
function capturingLogger(): { logger: Logger; lines: { msg: string; dropped?: number }[] } {
  const lines: { msg: string; dropped?: number }[] = [];
  const logger: Logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string; dropped?: number }) });
  return { logger, lines };
}

describe('EventReporter and status reports taking events', () => {
  it('neither repeats nor loses events when a status report takes some while its own send is in flight', async () => {
    const client = new FakeGantryClient();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const recordEvents = client.recordEvents.bind(client);
    client.recordEvents = async (items, source) => {
      await held;
      return recordEvents(items, source);
    };
    const r = aReporter(client, { flushIntervalMs: 60_000 });
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    const own = r.flush(); // A in flight
    r.emit(inst('web-b'), 'Normal', 'Started', 'B');
    const carried = r.takeForReport(); // B rides on a status report
    expect(carried?.items.map((e) => e.message)).toEqual(['B']);
    r.emit(inst('web-c'), 'Normal', 'Started', 'C');
    release();
    await own;
    await r.flush();
    expect(client.events().map((e) => e.message)).toEqual(['A', 'C']);
    expect(r.pendingCount).toBe(0);
  });

  it('puts events back in order when their own send fails, behind none of the later ones', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client, { flushIntervalMs: 60_000 });
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    client.down = true;
    await r.flush();
    r.emit(inst('web-b'), 'Normal', 'Started', 'B');
    client.down = false;
    const carried = r.takeForReport();
    expect(carried?.items.map((e) => e.message)).toEqual(['A', 'B']);
  });
});

describe('EventReporter waiting for a status report that is due', () => {
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  /** A started reporter on a clock the test moves, with a status report always due. */
  const reportAlwaysDue = () => {
    const client = new FakeGantryClient();
    const clock = { t: 1_000_000 };
    const r = aReporter(client, { now: () => clock.t });
    r.rideOn(() => true);
    r.start();
    return { client, r, clock };
  };

  it('lets the report carry them instead of a request of their own', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client);
    r.rideOn(() => true);
    r.start();
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    await sleep(150); // five of its own intervals
    expect(client.eventBatches).toHaveLength(0);
    expect(r.takeForReport()?.items.map((e) => e.message)).toEqual(['A']);
  });

  it('sends them on its own when no report is due', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client);
    let due = true;
    r.rideOn(() => due);
    r.start();
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    await sleep(100);
    expect(client.eventBatches).toHaveLength(0);
    due = false;
    await waitFor(() => client.eventBatches.length > 0, 1000, 'their own batch');
    expect(client.events().map((e) => e.message)).toEqual(['A']);
  });

  it('waits no longer than MAX_RIDE_WAIT_MS, even while reports stay due', async () => {
    const { client, r, clock } = reportAlwaysDue();
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    clock.t += MAX_RIDE_WAIT_MS - 1;
    r.emit(inst('web-b'), 'Normal', 'Started', 'B');
    await sleep(100);
    expect(client.eventBatches).toHaveLength(0);
    clock.t += 1; // the oldest has waited long enough: both go
    await waitFor(() => client.eventBatches.length > 0, 1000, 'their own batch');
    expect(client.events().map((e) => e.message)).toEqual(['A', 'B']);
  });

  it('counts the wait from the oldest event even after a report that carried them failed', async () => {
    const { client, r, clock } = reportAlwaysDue();
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    clock.t += MAX_RIDE_WAIT_MS - 1000;
    r.takeForReport()?.giveBack(); // the report failed
    await sleep(100);
    expect(client.eventBatches).toHaveLength(0);
    clock.t += 1000; // five seconds since A was emitted, not since it came back
    await waitFor(() => client.eventBatches.length > 0, 1000, 'their own batch');
    expect(client.events().map((e) => e.message)).toEqual(['A']);
  });

  it('sends at once on flush() and stop(), report due or not', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client, { flushIntervalMs: 60_000 });
    r.rideOn(() => true);
    r.emit(inst('web-a'), 'Normal', 'Started', 'A');
    await r.flush();
    r.emit(inst('web-b'), 'Normal', 'Started', 'B');
    await r.stop();
    expect(client.events().map((e) => e.message)).toEqual(['A', 'B']);
  });
});

describe('EventReporter combining similar events', () => {
  it('combines ten or more Normal events of one service and reason in a batch into one on the Service', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client);
    r.start();
    for (let i = 0; i < 12; i++) r.emit(inst(`web-${i}`), 'Normal', 'Started', `started container web (id ${i})`, 'web');
    r.emit(inst('api-0'), 'Normal', 'Started', 'started container api', 'api');
    for (let i = 0; i < 9; i++) r.emit(inst(`db-${i}`), 'Normal', 'Started', 'started container db', 'db');
    for (let i = 0; i < 3; i++) r.emit(inst(`web-${i}`), 'Warning', 'BackOff', `container web exited ${i}`, 'web');
    r.emit(inst('web-7'), 'Normal', 'Killing', 'stopping', 'web');
    await waitFor(() => client.eventBatches.length > 0, 1000, 'a batch');
    const items = client.eventBatches[0]?.items ?? [];
    expect(items[0]).toEqual({
      involved: { kind: 'Service', namespace: 'default', name: 'web' },
      type: 'Normal',
      reason: 'Started',
      message: '12 instances (web-0, web-1, web-2, web-3, web-4 and 7 more); web-0: started container web (id 0)',
    });
    // One of a kind, nine of a kind, warnings and other reasons stay on their instances.
    expect(items.slice(1).map((e) => `${e.involved.kind}/${e.involved.name} ${e.reason}`)).toEqual([
      'Instance/api-0 Started',
      ...Array.from({ length: 9 }, (_, i) => `Instance/db-${i} Started`),
      'Instance/web-0 BackOff',
      'Instance/web-1 BackOff',
      'Instance/web-2 BackOff',
      'Instance/web-7 Killing',
    ]);
  });
});

describe('EventReporter', () => {
  it('sends what was emitted within one interval as one batch, in order, with its source', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client);
    r.start();
    for (let i = 0; i < 30; i++) r.emit(inst(`web-${i}`), 'Normal', 'Started', `started ${i}`);
    await waitFor(() => client.eventBatches.length > 0, 1000, 'a batch');
    await new Promise((res) => setTimeout(res, 60));
    expect(client.eventBatches).toHaveLength(1);
    expect(client.eventBatches[0]?.source).toBe('agent/n1');
    expect(client.eventBatches[0]?.items.map((e) => e.message)).toEqual(Array.from({ length: 30 }, (_, i) => `started ${i}`));
  });

  it('splits a large backlog into batches the API accepts', async () => {
    const client = new FakeGantryClient();
    const r = aReporter(client, { maxBatch: 10, maxBuffered: 100 });
    for (let i = 0; i < 25; i++) r.emit(inst('web'), 'Normal', 'Started', `m${i}`);
    await r.flush();
    expect(client.eventBatches.map((b) => b.items.length)).toEqual([10, 10, 5]);
  });

  it('keeps events while the server is briefly down and sends them when it is back', async () => {
    const client = new FakeGantryClient();
    client.down = true;
    const r = aReporter(client);
    r.emit(inst('web'), 'Warning', 'BackOff', 'crashed');
    await r.flush();
    expect(r.pendingCount).toBe(1);
    client.down = false;
    await r.flush();
    expect(client.events('BackOff')).toHaveLength(1);
    expect(r.pendingCount).toBe(0);
  });

  it('bounds the buffer: the oldest go first, with one log line', async () => {
    const client = new FakeGantryClient();
    client.down = true;
    const { logger, lines } = capturingLogger();
    const r = aReporter(client, { maxBuffered: 3, logger });
    for (let i = 0; i < 5; i++) r.emit(inst('web'), 'Normal', 'Started', `m${i}`);
    expect(r.pendingCount).toBe(3);
    await r.flush();
    expect(lines.filter((l) => /buffer full/.test(l.msg))).toEqual([expect.objectContaining({ dropped: 2 })]);
    client.down = false;
    await r.flush();
    expect(client.events().map((e) => e.message)).toEqual(['m2', 'm3', 'm4']);
  });

  it('drops the backlog, saying so, when the server stays unreachable for long', async () => {
    const client = new FakeGantryClient();
    client.down = true;
    let now = 0;
    const { logger, lines } = capturingLogger();
    const r = aReporter(client, { dropAfterMs: 60_000, now: () => now, logger });
    r.emit(inst('web'), 'Normal', 'Started', 'old');
    await r.flush();
    now = 59_000;
    await r.flush();
    expect(r.pendingCount).toBe(1);
    now = 60_000;
    await r.flush();
    expect(r.pendingCount).toBe(0);
    expect(lines.find((l) => /unreachable/.test(l.msg))).toMatchObject({ dropped: 1 });
    client.down = false;
    r.emit(inst('web'), 'Normal', 'Started', 'new');
    await r.flush();
    expect(client.events().map((e) => e.message)).toEqual(['new']);
  });

  it('drops a batch the server refuses as invalid instead of retrying it forever', async () => {
    const client = new FakeGantryClient();
    let calls = 0;
    client.recordEvents = async () => {
      calls++;
      throw new AppError('INVALID', 'the event batch is invalid');
    };
    const r = aReporter(client);
    r.emit(inst('web'), 'Normal', 'bad reason', 'x');
    await r.flush();
    await r.flush();
    expect(calls).toBe(1);
    expect(r.pendingCount).toBe(0);
  });

  it('keeps no timer while nothing is buffered, and retries on a timer while the server is down', async () => {
    vi.useFakeTimers();
    try {
      const client = new FakeGantryClient();
      const r = aReporter(client, { flushIntervalMs: 1000 });
      r.start();
      expect(vi.getTimerCount()).toBe(0);
      client.down = true;
      r.emit(inst('web'), 'Normal', 'Started', 'x');
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(r.pendingCount).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      client.down = false;
      await vi.advanceTimersByTimeAsync(2000);
      expect(client.events().map((e) => e.message)).toEqual(['x']);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
