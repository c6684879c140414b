import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { candidates } from './completion-command.js';
import { aService, stored } from '../core/test-builders.js';
import { fakeClient, testContext } from './test-helpers.js';

const commands = ['apply', 'get', 'rollout'];
const names = (kind: string) => Promise.resolve(kind === 'Service' ? ['hello', 'web'] : kind === 'Node' ? ['vm'] : []);

describe('completion', () => {
  it('offers commands, then kinds, then names from the server', async () => {
    expect(await candidates([], commands, names)).toEqual(commands);
    const kinds = await candidates(['get'], commands, names);
    expect(kinds).toEqual(expect.arrayContaining(['services', 'svc', 'jobs', 'cronjobs', 'configs', 'secrets', 'versions']));
    expect(await candidates(['get', 'svc'], commands, names)).toEqual(['hello', 'web']);
    expect(await candidates(['describe', '-n', 'prod', 'services'], commands, names)).toEqual(['hello', 'web']);
    expect(await candidates(['get', 'svc', 'web'], commands, names)).toEqual([]);
  });

  it('walks rollout, node and scale through their fixed words to names', async () => {
    expect(await candidates(['rollout'], commands, names)).toContain('pause');
    expect(await candidates(['rollout', 'status'], commands, names)).toEqual(['service']);
    expect(await candidates(['rollout', 'status', 'service'], commands, names)).toEqual(['hello', 'web']);
    expect(await candidates(['node', 'drain'], commands, names)).toEqual(['vm']);
    expect(await candidates(['completion'], commands, names)).toEqual(['bash', 'zsh']);
  });

  it('prints a bash and a zsh script that call __complete, and __complete answers with names', async () => {
    for (const shell of ['bash', 'zsh']) {
      const ctx = testContext({});
      expect(await runCli(ctx, ['completion', shell])).toBe(0);
      expect(ctx.out).toContain('__complete');
    }
    const ctx = testContext({ env: { GANTRY_TOKEN: 't' }, client: fakeClient({ list: () => Promise.resolve({ kind: 'List', items: [stored(aService('hello'))], revision: 1 }) as never }) });
    expect(await runCli(ctx, ['__complete', 'get', 'svc'])).toBe(0);
    expect(ctx.out).toBe('hello\n');
    const top = testContext({});
    expect(await runCli(top, ['__complete'])).toBe(0);
    expect(top.out.split('\n')).toEqual(expect.arrayContaining(['get', 'apply', 'completion']));
    expect(top.out).not.toContain('__complete');
  });
});
