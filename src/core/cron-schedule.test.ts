import { describe, expect, it } from 'vitest';
import { parseSchedule, scheduleErrors } from './cron-schedule.js';
import { InvalidError } from './errors.js';
import { validateManifest } from './validate.js';
import { applyDefaults } from './defaults.js';

const at = (iso: string) => new Date(iso);
const anchor = at('2025-01-01T00:00:00.300Z');

describe('parseSchedule', () => {
  it('@every counts whole intervals from the anchor (the CronJob creation time)', () => {
    const s = parseSchedule('@every 2s', { anchor });
    expect(s.next(anchor)?.toISOString()).toBe('2025-01-01T00:00:02.300Z');
    expect(s.next(at('2025-01-01T00:00:02.299Z'))?.toISOString()).toBe('2025-01-01T00:00:02.300Z');
    // Strictly after: a time that is itself scheduled gives the one after it.
    expect(s.next(at('2025-01-01T00:00:02.300Z'))?.toISOString()).toBe('2025-01-01T00:00:04.300Z');
    // Before the anchor: the first interval.
    expect(s.next(at('2024-12-31T00:00:00Z'))?.toISOString()).toBe('2025-01-01T00:00:02.300Z');
  });

  it('@every takes compound durations like 1m30s', () => {
    const s = parseSchedule('@every 1m30s', { anchor });
    expect(s.next(anchor)?.toISOString()).toBe('2025-01-01T00:01:30.300Z');
  });

  it('@every due() is arithmetic, even over a month of a 1 s schedule', () => {
    const s = parseSchedule('@every 1s', { anchor });
    const d = s.due(anchor, at('2025-01-31T00:00:00.300Z'));
    expect(d.count).toBe(30 * 86_400);
    expect(d.latest?.toISOString()).toBe('2025-01-31T00:00:00.300Z');
    expect(s.due(anchor, at('2025-01-01T00:00:01.299Z'))).toEqual({ count: 0, latest: undefined, capped: false });
  });

  it('5-field cron fires on minutes, 6-field on seconds', () => {
    const five = parseSchedule('*/5 * * * *', { anchor });
    expect(five.next(at('2025-01-01T00:03:07Z'))?.toISOString()).toBe('2025-01-01T00:05:00.000Z');
    const six = parseSchedule('*/10 * * * * *', { anchor });
    expect(six.next(at('2025-01-01T00:00:10Z'))?.toISOString()).toBe('2025-01-01T00:00:20.000Z');
  });

  it('nicknames and time zones', () => {
    const daily = parseSchedule('@daily', { anchor, timeZone: 'Europe/Berlin' });
    // Midnight in Berlin is 23:00 UTC in winter.
    expect(daily.next(anchor)?.toISOString()).toBe('2025-01-01T23:00:00.000Z');
    const hourly = parseSchedule('@hourly', { anchor });
    expect(hourly.next(anchor)?.toISOString()).toBe('2025-01-01T01:00:00.000Z');
  });

  it('cron due() counts the times in (after, until] and gives the latest', () => {
    const s = parseSchedule('*/10 * * * * *', { anchor });
    const d = s.due(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:01:05Z'));
    expect(d.count).toBe(6);
    expect(d.latest?.toISOString()).toBe('2025-01-01T00:01:00.000Z');
  });

  it('cron due() stops counting at the cap but still finds the latest time', () => {
    const s = parseSchedule('* * * * * *', { anchor });
    const d = s.due(at('2025-01-01T00:00:00Z'), at('2025-01-02T00:00:00.500Z'), 100);
    expect(d.capped).toBe(true);
    expect(d.count).toBe(100);
    expect(d.latest?.toISOString()).toBe('2025-01-02T00:00:00.000Z');
  });
});

describe('scheduleErrors', () => {
  it.each(['*/5 * * * *', '*/10 * * * * *', '@every 30s', '@every 1m30s', '@hourly', '@daily', '@weekly'])('accepts %s', (s) => {
    expect(scheduleErrors(s, undefined)).toEqual([]);
  });

  it.each(['@every', '@every soon', '@every 10ms', '@sometimes', 'every 5 minutes', '* * * *', '61 * * * *', '0 0 0 1 1 * 2030'])('rejects %s naming spec.schedule and the accepted forms', (s) => {
    const errs = scheduleErrors(s, undefined);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.path).toBe('spec.schedule');
    expect(errs[0]!.message).toContain('@every 30s');
    expect(errs[0]!.message).toContain('*/5 * * * *');
  });

  it('rejects an unknown time zone naming spec.timeZone', () => {
    expect(scheduleErrors('@hourly', 'Mars/Olympus')).toEqual([{ path: 'spec.timeZone', message: expect.stringContaining('IANA') as string }]);
  });
});

describe('CronJob manifests', () => {
  const cronJob = (spec: Record<string, unknown>) => ({
    apiVersion: 'gantry/v1',
    kind: 'CronJob',
    metadata: { name: 'tick' },
    spec: { schedule: '@every 2s', jobTemplate: { containers: [{ name: 'main', image: 'busybox:1' }] }, ...spec },
  });

  it('a bad schedule is a 422 naming spec.schedule', () => {
    try {
      validateManifest(cronJob({ schedule: 'every now and then' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidError);
      expect((e as InvalidError).status).toBe(422);
      expect((e as InvalidError).details?.[0]?.path).toBe('spec.schedule');
    }
  });

  it('defaults show in the stored object', () => {
    const m = applyDefaults(validateManifest(cronJob({})));
    expect(m.spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      suspend: false,
      jobTemplate: { completions: 1, parallelism: 1, backoffLimit: 6, restartPolicy: 'Never', runIn: 'fresh' },
    });
  });

  it('Job defaults', () => {
    const m = applyDefaults(validateManifest({ apiVersion: 'gantry/v1', kind: 'Job', metadata: { name: 'once' }, spec: { containers: [{ name: 'main', image: 'busybox:1' }] } }));
    expect(m.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, restartPolicy: 'Never', runIn: 'fresh' });
  });
});
