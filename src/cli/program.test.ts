import { describe, expect, it } from 'vitest';
import { buildProgram, commandNames, commandWord } from './program.js';
import { runCli } from './run-cli.js';
import { testContext } from './test-helpers.js';

describe('the command tree', () => {
  it('finds the command word after the global options and their values', () => {
    expect(commandWord(['get', 'services'])).toBe('get');
    expect(commandWord(['--server', 'http://h:1', '--token', 't', 'get', 'services'])).toBe('get');
    expect(commandWord(['--data-dir', 'get', 'describe', 'x'])).toBe('describe');
    expect(commandWord(['--server=http://h:1', 'version'])).toBe('version');
    expect(commandWord(['--help'])).toBeUndefined();
    expect(commandWord([])).toBeUndefined();
  });

  it('loads only the command the words name, and every command when they name none', async () => {
    const one = await buildProgram(testContext(), ['get', 'services']);
    expect(one.commands.map((c) => c.name())).toEqual(['get', 'completion', '__complete']);
    const all = await buildProgram(testContext(), ['--help']);
    // Each loader's module makes the command of its name (a mismatch would run the wrong one).
    expect(all.commands.map((c) => c.name())).toEqual([...commandNames(), '__complete']);
    const typo = await buildProgram(testContext(), ['gett']);
    expect(typo.commands).toHaveLength(all.commands.length);
  });

  it('lists every command in the help and suggests one for a typo', async () => {
    const help = testContext();
    expect(await runCli(help, ['--help'])).toBe(0);
    for (const name of commandNames()) expect(help.out).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const typo = testContext();
    expect(await runCli(typo, ['gett', 'services'])).toBe(1);
    expect(typo.err).toMatch(/unknown command 'gett'[\s\S]*Did you mean get\?/);
  });

  it('completes command names without loading the commands', async () => {
    const ctx = testContext();
    expect(await runCli(ctx, ['__complete'])).toBe(0);
    expect(ctx.out.split('\n').filter(Boolean)).toEqual(commandNames());
  });
});
