import { describe, expect, it } from 'vitest';
import { resolveToken } from './global-options.js';
import { agentJoinHint, parseEventRetention, parseMaxHeartbeats } from './server-command.js';
import { testContext } from './test-helpers.js';

describe('agentJoinHint', () => {
  it('makes a join token and passes it through GANTRY_TOKEN, never in argv where ps and /proc show it', () => {
    const hint = agentJoinHint('https://127.0.0.1:7070', false);
    expect(hint[0]).toMatch(/^gantry token create --join > join.token/);
    expect(hint[1]).toBe('GANTRY_TOKEN=$(cat join.token) gantry agent --join https://127.0.0.1:7070');
    expect(hint.join('\n')).not.toContain('--token ');
  });

  it('tells agents on other hosts to listen at their address and say it', () => {
    expect(agentJoinHint('http://<this-host-address>:7070', true)[1]).toBe(
      'GANTRY_TOKEN=$(cat join.token) gantry agent --join http://<this-host-address>:7070 --address <agent-host-address> --agent-listen <agent-host-address>:7071 --publish-address <agent-host-address>',
    );
  });

  it('names no CA: the join token pins it', () => {
    expect(agentJoinHint('https://127.0.0.1:7070', false).join('\n')).not.toContain('--ca');
  });

  it('matches how `gantry agent --join` finds its join token: GANTRY_TOKEN before the join.token file', async () => {
    const ctx = testContext({ env: { GANTRY_TOKEN: 'from-env' }, files: { '/home/tester/.gantry/join.token': 'stale' } });
    expect(await resolveToken(ctx, {}, 'join.token')).toBe('from-env');
  });
});

describe('parseEventRetention', () => {
  it('takes a duration and a count, and refuses what event aggregation or describe could not live with, naming the flag', () => {
    expect(parseEventRetention('1h', '200000')).toEqual({ maxAgeMs: 3_600_000, maxCount: 200_000 });
    expect(() => parseEventRetention('30s', '200000')).toThrow('--event-ttl must be at least 1m (events aggregate over 10m), not "30s"');
    expect(() => parseEventRetention('soon', '200000')).toThrow('--event-ttl must be a duration like 15s or 1m, not "soon"');
    expect(() => parseEventRetention('1h', '999')).toThrow('--max-events must be a whole number of at least 1000, like 200000, not "999"');
    expect(() => parseEventRetention('1h', '1e6')).toThrow('--max-events must be a whole number');
  });
});

describe('parseMaxHeartbeats', () => {
  it('takes a whole number from 10 to 100000 and names the flag otherwise', () => {
    expect(parseMaxHeartbeats('1000')).toBe(1000);
    expect(parseMaxHeartbeats(' 50 ')).toBe(50);
    for (const bad of ['9', '100001', '1e3', '500.5', '', 'many', '-10']) {
      expect(() => parseMaxHeartbeats(bad)).toThrow(`--max-heartbeats-per-second must be a whole number from 10 to 100000, like 500, not "${bad}"`);
    }
  });
});
