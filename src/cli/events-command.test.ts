import { describe, expect, it } from 'vitest';
import type { ClientListOptions } from '../client/types.js';
import { parseFor } from './events-command.js';
import { runCli } from './run-cli.js';
import { anEvent, fakeClient, testContext } from './test-helpers.js';

const token = { GANTRY_TOKEN: 't0k3n' };

const events = [
  anEvent('e2', { involved: { kind: 'Node', name: 'node-a' }, reason: 'NodeDrained', message: 'node node-a drained: no instances left', ageSeconds: 5 }),
  anEvent('e1', { involved: { kind: 'Node', name: 'node-a' }, reason: 'NodeDraining', message: 'node node-a is draining', ageSeconds: 50 }),
  anEvent('e3', { involved: { kind: 'Instance', name: 'web-x', namespace: 'default' }, type: 'Warning', reason: 'CrashLoopRescheduled', message: 'web-x failed 3 times in a row on node node-a; moving it to another node', ageSeconds: 20, count: 2 }),
];

function listing(seen: (ClientListOptions | undefined)[] = []) {
  return fakeClient({
    list: ((_kind: string, opts?: ClientListOptions) => {
      seen.push(opts);
      return Promise.resolve({ items: events, revision: 3 });
    }) as never,
  });
}

describe('gantry events', () => {
  it('prints every event of the namespace, oldest first, with repeats counted', async () => {
    const seen: (ClientListOptions | undefined)[] = [];
    const ctx = testContext({ env: token, client: listing(seen) });
    expect(await runCli(ctx, ['events'])).toBe(0);
    expect(seen).toEqual([{ namespace: 'default' }]);
    expect(ctx.out).toBe(
      'LAST   TYPE      REASON                 OBJECT           MESSAGE\n' +
        '50s    Normal    NodeDraining           node/node-a      node node-a is draining\n' +
        '20s    Warning   CrashLoopRescheduled   instance/web-x   web-x failed 3 times in a row on node node-a; moving it to another node (x2)\n' +
        '5s     Normal    NodeDrained            node/node-a      node node-a drained: no instances left\n',
    );
  });

  it('--limit N keeps the latest N, --since DURATION those seen since; both for get events too', async () => {
    const reasons = (out: string) => out.split('\n').slice(1).filter(Boolean).map((l) => l.split(/ +/)[2]);
    for (const cmd of [['events'], ['get', 'events']]) {
      const last = testContext({ env: token, client: listing() });
      expect(await runCli(last, [...cmd, '--limit', '2'])).toBe(0);
      expect(reasons(last.out)).toEqual(['CrashLoopRescheduled', 'NodeDrained']);
      const recent = testContext({ env: token, client: listing() });
      expect(await runCli(recent, [...cmd, '--since', '30s'])).toBe(0);
      expect(reasons(recent.out)).toEqual(['CrashLoopRescheduled', 'NodeDrained']);
      const both = testContext({ env: token, client: listing() });
      expect(await runCli(both, [...cmd, '--since', '1m', '--limit', '1'])).toBe(0);
      expect(reasons(both.out)).toEqual(['NodeDrained']);
    }
    const bad = testContext({ env: token, client: listing() });
    expect(await runCli(bad, ['events', '--limit', '0'])).toBe(1);
    expect(bad.err).toBe('error: --limit must be a whole number of events, at least 1, not "0"\n');
    const since = testContext({ env: token, client: listing() });
    expect(await runCli(since, ['get', 'events', '--since', 'yesterday'])).toBe(1);
    expect(since.err).toBe('error: --since must be a duration like 30s, 10m or 2h, not "yesterday"\n');
    const notEvents = testContext({ env: token, client: listing() });
    expect(await runCli(notEvents, ['get', 'services', '--limit', '3'])).toBe(1);
    expect(notEvents.err).toBe('error: --limit only goes with gantry get events\n');
  });

  it('--for KIND/NAME keeps the events of one object; -A lists every namespace', async () => {
    const seen: (ClientListOptions | undefined)[] = [];
    const ctx = testContext({ env: token, client: listing(seen) });
    expect(await runCli(ctx, ['events', '-A', '--for', 'no/node-a'])).toBe(0);
    expect(seen).toEqual([{ namespace: undefined }]);
    expect(ctx.out.split('\n').filter(Boolean).map((l) => l.split(/\s{3,}/)[3])).toEqual(['REASON', 'NodeDraining', 'NodeDrained']);
    const none = testContext({ env: token, client: listing() });
    expect(await runCli(none, ['events', '--for', 'service/api'])).toBe(0);
    expect(none.err).toBe('No events for service/api in namespace default.\n');
  });

  it('--for wants KIND/NAME with a known kind', () => {
    expect(parseFor('svc/web')).toEqual({ kind: 'Service', name: 'web' });
    expect(() => parseFor('web')).toThrow('--for must be KIND/NAME like node/node-a or service/web, not "web"');
    expect(() => parseFor('pod/web')).toThrow(/unknown kind "pod"/);
  });
});
