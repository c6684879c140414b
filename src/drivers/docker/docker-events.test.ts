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
});
