// A CronJob's schedule as a pure function of time: which scheduled times fall in a window. Cron
// arithmetic is croner's (5 fields, 6 with seconds, @hourly/@daily/..., time zones); croner has no
// `@every`, so that one is an interval anchored at the CronJob's creation time: anchor + k * every.
import { Cron } from 'croner';
import type { FieldError } from './errors.js';
import { parseDuration } from './quantity.js';

const SCHEDULE_FORMS =
  'a 5-field cron like "*/5 * * * *", a 6-field cron with seconds like "*/10 * * * * *", "@every 30s" (any duration: 2s, 1m30s) or one of @yearly, @monthly, @weekly, @daily, @hourly';

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
/** Scheduled times closer than this cannot be told apart by Job names (unix seconds). */
const MIN_EVERY_MS = 1000;

export interface CronSchedule {
  /** The first scheduled time strictly after `after`, or undefined if there is none. */
  next(after: Date): Date | undefined;
  /**
   * The scheduled times in (after, until]: how many (counting stops at `cap`) and the latest.
   * A server that was down for a month must not walk a per-second schedule one step at a time.
   */
  due(after: Date, until: Date, cap?: number): { count: number; latest: Date | undefined; capped: boolean };
}

class EverySchedule implements CronSchedule {
  constructor(
    private readonly anchorMs: number,
    private readonly everyMs: number,
  ) {}

  next(after: Date): Date {
    const k = Math.max(0, Math.floor((after.getTime() - this.anchorMs) / this.everyMs)) + 1;
    return new Date(this.anchorMs + k * this.everyMs);
  }

  due(after: Date, until: Date): { count: number; latest: Date | undefined; capped: boolean } {
    const first = this.next(after).getTime();
    if (first > until.getTime()) return { count: 0, latest: undefined, capped: false };
    const count = Math.floor((until.getTime() - first) / this.everyMs) + 1;
    return { count, latest: new Date(first + (count - 1) * this.everyMs), capped: false };
  }
}

class CronerSchedule implements CronSchedule {
  constructor(private readonly cron: Cron) {}

  next(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  due(after: Date, until: Date, cap = 10_000): { count: number; latest: Date | undefined; capped: boolean } {
    let count = 0;
    let latest: Date | undefined;
    for (let t = this.next(after); t && t.getTime() <= until.getTime(); t = this.next(t)) {
      count++;
      latest = t;
      if (count >= cap) {
        // Past the cap only the latest matters (it may still be within the starting deadline).
        const last = this.cron.previousRuns(1, new Date(until.getTime() + 1))[0];
        return { count, latest: last && last.getTime() <= until.getTime() ? last : latest, capped: true };
      }
    }
    return { count, latest, capped: false };
  }
}

/** `@every 1m30s` -> 90000, or undefined when `schedule` is not an @every form. */
function everyMs(schedule: string): number | undefined {
  const m = /^@every\s+(\S+)$/.exec(schedule.trim());
  return m?.[1] !== undefined ? parseDuration(m[1]) : undefined;
}

/** Problems with a schedule and time zone, as field errors (empty when both are fine). */
export function scheduleErrors(schedule: string, timeZone: string | undefined, at = 'spec'): FieldError[] {
  const out: FieldError[] = [];
  if (timeZone !== undefined && !validTimeZone(timeZone)) {
    out.push({ path: `${at}.timeZone`, message: `"${timeZone}" is not a time zone; use an IANA name like Europe/Berlin or UTC` });
  }
  const s = schedule.trim();
  if (s.startsWith('@every')) {
    const ms = everyMs(s);
    if (ms === undefined) out.push({ path: `${at}.schedule`, message: `"${schedule}" has no valid duration after @every; must be ${SCHEDULE_FORMS}` });
    else if (ms < MIN_EVERY_MS) out.push({ path: `${at}.schedule`, message: `@every must be at least 1s; must be ${SCHEDULE_FORMS}` });
    return out;
  }
  const fields = s.split(/\s+/).length;
  if (s.startsWith('@') ? !NICKNAMES.has(s.toLowerCase()) : fields !== 5 && fields !== 6) {
    out.push({ path: `${at}.schedule`, message: `"${schedule}" is not a schedule; must be ${SCHEDULE_FORMS}` });
    return out;
  }
  try {
    new Cron(s, { paused: true, ...(timeZone !== undefined && validTimeZone(timeZone) ? { timezone: timeZone } : {}) });
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^CronPattern: /, '') : String(e);
    out.push({ path: `${at}.schedule`, message: `"${schedule}" is not a schedule (${why}); must be ${SCHEDULE_FORMS}` });
  }
  return out;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The schedule of a CronJob. `anchor` (its creation time) is where `@every` intervals count from,
 * so every server computes the same times. Throws if the schedule is invalid (validate first).
 */
export function parseSchedule(schedule: string, opts: { timeZone?: string | undefined; anchor: Date }): CronSchedule {
  const errors = scheduleErrors(schedule, opts.timeZone);
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  const ms = everyMs(schedule);
  if (ms !== undefined) return new EverySchedule(opts.anchor.getTime(), ms);
  return new CronerSchedule(new Cron(schedule.trim(), { paused: true, ...(opts.timeZone ? { timezone: opts.timeZone } : {}) }));
}
