import { describe, expect, it } from 'vitest';
import { parseEventLine } from './docker-events.js';

describe('parseEventLine', () => {
  it('maps the container actions Gantry cares about and ignores the rest', () => {
    const line = (o: object) => JSON.stringify(o);
    expect(parseEventLine(line({ Type: 'container', Action: 'die', Actor: { ID: 'x' }, time: 5 }))).toEqual({ id: 'x', action: 'die', time: 5 });
    expect(parseEventLine(line({ Type: 'container', Action: 'exec_start: sh', Actor: { ID: 'x' } }))).toBeUndefined();
    expect(parseEventLine(line({ Type: 'network', Action: 'die', Actor: { ID: 'x' } }))).toBeUndefined();
    expect(parseEventLine('{"Type":"contai')).toBeUndefined();
    expect(parseEventLine('')).toBeUndefined();
  });

  it('carries the instance uid from the container labels Docker sends as attributes', () => {
    const line = JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: { 'io.gantry.instance-uid': 'uid-1', image: 'busybox' } }, time: 7 });
    expect(parseEventLine(line)).toEqual({ id: 'x', action: 'start', instanceUid: 'uid-1', time: 7 });
    expect(parseEventLine(JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'y', Attributes: {} } }))).toEqual({ id: 'y', action: 'start' });
  });
});
