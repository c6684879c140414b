// The README cannot drift: every `$ bin/gantry ...` command of its walkthrough blocks runs against
// a real Gantry (real dockerd, examples/hello.yaml), and its output has the shape the README
// shows: the same column headers, the same number of rows, the same "created"/"unchanged" words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GantryProcesses, REPO } from '../support/gantry-process.js';
import { instancesOf } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

interface Shown {
  args: string[];
  output: string[];
}

/** `$ bin/gantry ...` lines of indented README blocks, each with the lines it shows below it. */
function shownCommands(readme: string): Shown[] {
  const out: Shown[] = [];
  const lines = readme.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const m = /^ {4}\$ bin\/gantry (.+?)\s*(#.*)?$/.exec(lines[k]!);
    if (!m) continue;
    const output: string[] = [];
    for (let j = k + 1; j < lines.length && /^ {4}\S/.test(lines[j]!) && !lines[j]!.startsWith('    $'); j++) output.push(lines[j]!.slice(4));
    out.push({ args: m[1]!.split(/\s+/), output });
  }
  return out;
}

const columns = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('README walkthrough', () => {
  let g: GantryProcesses;
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const shown = shownCommands(readme).filter((c) => !c.args.some((a) => a.endsWith('.yaml') && !a.startsWith('examples/')));

  beforeAll(async () => {
    g = await GantryProcesses.create();
    await g.up();
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  it('finds the walkthrough commands', () => {
    expect(shown.map((c) => c.args.slice(0, 2).join(' '))).toEqual(expect.arrayContaining(['apply -f', 'get services', 'get instances', 'endpoints hello']));
  });

  it('each shown command prints what the README shows, in shape', async () => {
    for (const c of shown) {
      if (c.args[0] !== 'apply') {
        // Tables are shown with everything ready: wait for hello's replicas first.
        await waitFor('hello ready', async () => (await instancesOf(g, 'hello')).filter((i) => i.status?.ready === true).length === 3, 120_000);
        await waitFor('3 endpoints', async () => (await g.cli(['endpoints', 'hello'])).stdout.trim().split('\n').length === 4, 30_000);
      }
      const r = await g.cli(c.args);
      expect({ cmd: c.args.join(' '), code: r.code, stderr: r.stderr }).toEqual({ cmd: c.args.join(' '), code: 0, stderr: '' });
      const got = r.stdout.trimEnd().split('\n');
      const want = c.output;
      if (/^[A-Z][A-Z-]+\s{2,}/.test(want[0] ?? '')) {
        expect({ cmd: c.args.join(' '), header: columns(got[0]) }).toEqual({ cmd: c.args.join(' '), header: columns(want[0]) });
        expect({ cmd: c.args.join(' '), rows: got.length }).toEqual({ cmd: c.args.join(' '), rows: want.length });
      } else {
        expect(got).toEqual(want);
      }
    }
  }, 300_000);

  it('a second apply of the same file prints the word the README promises', async () => {
    expect(readme).toContain('"service/hello unchanged"');
    const r = await g.cli(['apply', '-f', 'examples/hello.yaml']);
    expect(r.stdout).toBe('service/hello unchanged\n');
    expect((await g.cli(['scale', 'service', 'hello', '--replicas', '5'])).code).toBe(0);
    expect(readme).toContain('"service/hello configured (replicas 5 → 3)"');
    expect((await g.cli(['apply', '-f', 'examples/hello.yaml'])).stdout).toBe('service/hello configured (replicas 5 → 3)\n');
    expect((await g.cli(['delete', 'service', 'hello'])).code).toBe(0);
  }, 120_000);

  it('examples/config-files.yaml runs on the image `npm run up` builds, and each of its containers says what it did', async () => {
    expect(readme).toContain('bin/gantry logs <cfg instance> -c prepare');
    expect((await g.cli(['apply', '-f', 'examples/config-files.yaml'])).stdout).toBe('config/web-conf created\nsecret/db created\nservice/cfg created\n');
    try {
      const [inst] = await waitFor('cfg running', async () => {
        const list = await instancesOf(g, 'cfg');
        return list.length === 1 && list[0]!.status?.phase === 'Running' ? list : undefined;
      }, 120_000);
      const prepare = await g.cli(['logs', inst!.metadata.name, '-c', 'prepare']);
      expect(prepare.stdout).toMatch(/^prepare: wrote \/gantry\/scratch\/ready \(.+\) for the main container\n$/);
      const main = await waitFor('main log', async () => {
        const r = await g.cli(['logs', inst!.metadata.name]);
        return r.stdout.includes('db-password') ? r.stdout : undefined;
      }, 30_000);
      expect(main).toMatch(/^main: prepared at \S.*\nport=8080\ngreeting=hello\n/);
    } finally {
      for (const [kind, name] of [['service', 'cfg'], ['config', 'web-conf'], ['secret', 'db']] as const) await g.cli(['delete', kind, name]);
    }
  }, 180_000);
});
