import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatLogLine, prettyDestination } from './log-format.js';
import { chooseLogFormat, parseLogFormat } from './logger.js';

const at = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();

describe('formatLogLine', () => {
  it('shows time, level, component, message and the other fields as key=value', () => {
    const line = JSON.stringify({ level: 30, time: at, pid: 7, hostname: 'h', controller: 'service', namespace: 'default', name: 'web', revision: 12, msg: 'service synced' });
    expect(formatLogLine(line, { color: false })).toBe('03:04:05.067 INFO  [service] service synced namespace=default name=web revision=12\n');
  });

  it('quotes values with spaces, prints objects as JSON and an error by its message with its stack below', () => {
    const line = JSON.stringify({ level: 50, time: at, msg: 'reconcile failed', reason: 'port is taken', ports: [1, 2], err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    expect(formatLogLine(line, { color: false })).toBe('03:04:05.067 ERROR reconcile failed reason="port is taken" ports=[1,2] err="boom"\n    Error: boom\n        at x\n');
  });

  it('colours the level on a terminal, and passes through what is not a JSON object', () => {
    expect(formatLogLine(JSON.stringify({ level: 40, time: at, msg: 'slow' }), { color: true })).toContain('\x1b[33mWARN \x1b[0m slow');
    expect(formatLogLine('not json\n', { color: false })).toBe('not json\n');
    expect(formatLogLine('[1,2]', { color: false })).toBe('[1,2]');
  });

  it('turns a real pino logger into readable lines', () => {
    const out: string[] = [];
    const logger = pino({ level: 'info', base: { pid: 1 } }, prettyDestination({ write: (t) => out.push(t) }, false));
    logger.child({ component: 'agent' }).info({ node: 'n1' }, 'registered');
    logger.debug('hidden');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[agent\] registered node=n1\n$/);
  });
});

describe('log format choice', () => {
  it('is pretty on a terminal, JSON in a file or a pipe, and what --log-format says otherwise', () => {
    expect(chooseLogFormat(undefined, false, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false, false)).toBe('json');
    expect(chooseLogFormat(undefined, true, true)).toBe('json');
    expect(chooseLogFormat('json', false, true)).toBe('json');
    expect(chooseLogFormat('pretty', true, false)).toBe('pretty');
    expect(parseLogFormat('pretty')).toBe('pretty');
    expect(parseLogFormat(undefined)).toBeUndefined();
    expect(() => parseLogFormat('yaml')).toThrow(/json or pretty/);
  });
});
