import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { FailureStreak, REPEAT_WARN_MS } from './failure-streak.js';

interface Line {
  level: number;
  msg: string;
  failures?: number;
  failingForMs?: number;
  node?: string;
}

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const WARN = 40;
const INFO = 30;
const DEBUG = 20;

async function flushed(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('FailureStreak', () => {
  it('logs the first failure at warn, the retries at debug and the recovery once at info', async () => {
    const { logger, lines } = capture();
    let now = 1_000;
    const streak = new FailureStreak(logger, { recovered: 'server answers again', now: () => now });
    streak.succeeded(); // nothing failed: no line
    for (let i = 0; i < 5; i++) {
      streak.failed({ node: 'n1' }, 'heartbeat failed');
      now += 1_000;
    }
    expect(streak.count).toBe(5);
    streak.succeeded({ node: 'n1' });
    streak.succeeded({ node: 'n1' }); // the run is over: no second line
    await flushed();
    expect(lines.map((l) => [l.level, l.msg, l.failures])).toEqual([
      [WARN, 'heartbeat failed', 1],
      [DEBUG, 'heartbeat failed', 2],
      [DEBUG, 'heartbeat failed', 3],
      [DEBUG, 'heartbeat failed', 4],
      [DEBUG, 'heartbeat failed', 5],
      [INFO, 'server answers again', 5],
    ]);
    expect(lines.at(-1)).toMatchObject({ node: 'n1', failingForMs: 5_000 });
    expect(streak.count).toBe(0);
  });

  it('warns again, with the count, while the failure outlasts the repeat interval', async () => {
    const { logger, lines } = capture();
    let now = 0;
    const streak = new FailureStreak(logger, { recovered: 'back', now: () => now });
    for (let t = 0; t <= 2 * REPEAT_WARN_MS; t += 10_000) {
      now = t;
      streak.failed({}, 'watch failed; resuming');
    }
    await flushed();
    const warns = lines.filter((l) => l.level === WARN);
    expect(warns.map((l) => [l.msg, l.failures, l.failingForMs])).toEqual([
      ['watch failed; resuming', 1, undefined],
      ['watch failed; resuming (still failing)', 7, REPEAT_WARN_MS],
      ['watch failed; resuming (still failing)', 13, 2 * REPEAT_WARN_MS],
    ]);
    expect(lines.filter((l) => l.level === DEBUG)).toHaveLength(10);
  });

  it('starts a new run after a success: its first failure is a warn again', async () => {
    const { logger, lines } = capture();
    const streak = new FailureStreak(logger, { recovered: 'back', now: () => 0 });
    streak.failed({}, 'x');
    streak.failed({}, 'x');
    streak.succeeded();
    streak.failed({}, 'x');
    await flushed();
    expect(lines.map((l) => [l.level, l.failures])).toEqual([
      [WARN, 1],
      [DEBUG, 2],
      [INFO, 2],
      [WARN, 1],
    ]);
  });

  it('works without a logger', () => {
    const streak = new FailureStreak(undefined, { recovered: 'back' });
    streak.failed({}, 'x');
    expect(streak.count).toBe(1);
    streak.succeeded();
    expect(streak.count).toBe(0);
  });
});
