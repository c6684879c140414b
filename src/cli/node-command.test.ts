import { describe, expect, it } from 'vitest';
import type { ClientListOptions, NodeAction } from '../client/types.js';
import type { Instance } from '../core/index.js';
import { progressLine } from './node-command.js';
import { runCli } from './run-cli.js';
import { aNode, anInstance, stored } from '../core/test-builders.js';
import { fakeClient, testContext } from './test-helpers.js';

const token = { GANTRY_TOKEN: 't0k3n' };
const finished = (i: Instance): Instance => ({ ...i, status: { ...i.status!, phase: 'Succeeded', ready: false } });

/** A client whose node holds the instances of each list call in turn (the last repeats). */
function drainingClient(rounds: Instance[][], calls: string[] = [], selectors: (string | undefined)[] = []) {
  let n = 0;
  return fakeClient({
    nodeAction: (name: string, action: NodeAction) => {
      calls.push(`${action} ${name}`);
      return Promise.resolve({ message: `node ${name} is draining: its service instances move to other nodes`, node: stored(aNode(name)) });
    },
    list: ((_kind: string, opts?: ClientListOptions) => {
      selectors.push(opts?.fieldSelector);
      const items = rounds[Math.min(n++, rounds.length - 1)]!;
      return Promise.resolve({ items, revision: 1 });
    }) as never,
  });
}

describe('gantry node', () => {
  const a = anInstance('web-a', { node: 'node-a' });
  const b = anInstance('web-b', { node: 'node-a' });
  const c = anInstance('web-c', { node: 'node-a' });

  it('drain prints the server\'s answer, a progress line when the count changes, and the end', async () => {
    const calls: string[] = [];
    const selectors: (string | undefined)[] = [];
    // Polls: 3 left, 3 left (no new line), 1 left (one finished, one gone), none.
    const client = drainingClient([[a, b, c], [a, b, c], [a, finished(b)], []], calls, selectors);
    const ctx = testContext({ env: token, client });
    expect(await runCli(ctx, ['node', 'drain', 'node-a'])).toBe(0);
    expect(calls).toEqual(['drain node-a']);
    expect(selectors[0]).toBe('spec.node=node-a');
    expect(ctx.out).toBe(
      'node node-a is draining: its service instances move to other nodes\n' +
        'drain node-a: 0 of 3 instances moved (3 left: web-a, web-b, web-c)\n' +
        'drain node-a: 2 of 3 instances moved (1 left: web-a)\n' +
        'node node-a drained\n',
    );
  }, 20_000);

  it('drain --no-wait returns at once; cordon and uncordon never wait', async () => {
    for (const argv of [['node', 'drain', 'node-a', '--no-wait'], ['node', 'cordon', 'node-a'], ['node', 'uncordon', 'node-a']]) {
      const calls: string[] = [];
      const ctx = testContext({ env: token, client: drainingClient([[a]], calls) });
      expect(await runCli(ctx, argv)).toBe(0);
      expect(calls).toEqual([`${argv[1]} node-a`]);
      expect(ctx.out.split('\n')).toHaveLength(2);
    }
  });

  it('a drain that does not finish in --timeout fails naming what is left and where to look', async () => {
    const ctx = testContext({ env: token, client: drainingClient([[a, b]]) });
    expect(await runCli(ctx, ['node', 'drain', 'node-a', '--timeout', '0s'])).toBe(1);
    expect(ctx.out).toContain('drain node-a: 0 of 2 instances moved (2 left: web-a, web-b)');
    expect(ctx.err).toMatch(/node node-a still holds 2 instances \(web-a, web-b\) after 0s; the drain goes on: see gantry events --for node\/node-a/);
  });

  it('refuses an unknown action or a bad timeout before calling the server', async () => {
    const ctx = testContext({ env: token, client: drainingClient([[]]) });
    expect(await runCli(ctx, ['node', 'evacuate', 'node-a'])).toBe(1);
    expect(ctx.err).toContain('unknown node action "evacuate": use one of cordon, uncordon, drain');
    const ctx2 = testContext({ env: token, client: drainingClient([[]]) });
    expect(await runCli(ctx2, ['node', 'drain', 'node-a', '--timeout', 'soon'])).toBe(1);
    expect(ctx2.err).toContain('--timeout must be a duration like 15s or 1m, not "soon"');
  });

  it('progress lines list a few names, then how many more', () => {
    const many = Array.from({ length: 8 }, (_, k) => anInstance(`web-${k}`, { node: 'n' }));
    expect(progressLine('n', 10, many)).toBe('drain n: 2 of 10 instances moved (8 left: web-0, web-1, web-2, web-3, web-4 and 3 more)');
  });
});
