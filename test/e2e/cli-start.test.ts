// The built CLI starts from its bundle (scripts/bundle-cli.ts): a user command opens a handful of
// files, none of them a package of the server, the agent or the logger, so it starts in a fraction
// of the second `npm run bench -- cli` measures. A static import of a root or of such a package
// from a command file would put it back on every command's start; this test catches that.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/gantry-process.js';

const run = promisify(execFile);

/** A module hook that prints every file Node loads, one `loaded <url>` line each on stderr. */
const HOOKS = `export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write('loaded ' + url + '\\n'); return next(url, context); }`;
const REGISTER = (hooks: string) => `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;

describe('the CLI start', () => {
  let dir: string;
  let register: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-cli-start-'));
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    register = join(dir, 'register.mjs');
    await writeFile(register, REGISTER(join(dir, 'hooks.mjs')));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadedBy(args: string[]): Promise<string[]> {
    // Port 1 answers nothing: the command fails after loading everything a call needs.
    const env = { ...process.env, GANTRY_ADDR: 'http://127.0.0.1:1', GANTRY_TOKEN: 't', GANTRY_HOME: dir };
    const r = await run(process.execPath, ['--import', pathToFileURL(register).href, 'bin/gantry', ...args], { cwd: REPO, env }).catch((e: { stderr: string }) => e);
    return [...r.stderr.matchAll(/^loaded (\S+)$/gm)].map((m) => m[1]!.slice(pathToFileURL(REPO).href.length + 1));
  }

  it.each([[['get', 'services']], [['version']], [['apply', '-f', 'examples/hello.yaml']], [['describe', 'service', 'hello']]])('gantry %j loads the bundle and no package of the server, agent or logger', async (args) => {
    const files = await loadedBy(args);
    expect(files[0]).toBe('bin/gantry');
    expect(files).toContain('dist/cli-bundle/gantry.js');
    expect(files.filter((f) => !f.startsWith('dist/cli-bundle/') && f !== 'bin/gantry')).toEqual([]);
    expect(files.filter((f) => /agent-root|server|sim|logger/.test(f))).toEqual([]);
    expect(files.length).toBeLessThan(25);
  });

  it('bin/gantry runs as a program through its own first line, with the young generation it sets', async () => {
    // As a user runs it (npm's bin link, ./bin/gantry): the kernel reads `#!/usr/bin/env -S node
    // --max-semi-space-size=64`. NODE_OPTIONS carries a probe that prints the flag node got.
    const probe = join(dir, 'flags.cjs');
    await writeFile(probe, "process.on('exit', () => process.stderr.write('execArgv ' + JSON.stringify(process.execArgv) + '\\n'));");
    const r = await run(join(REPO, 'bin', 'gantry'), ['--help'], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: `--require ${probe}` } });
    expect(r.stdout).toContain('Usage: gantry');
    expect(r.stderr).toContain('--max-semi-space-size=64');
  });

  it('gantry up --help shows its flags without loading the server', async () => {
    const files = await loadedBy(['up', '--help']);
    expect(files.filter((f) => !f.startsWith('dist/cli-bundle/') && f !== 'bin/gantry')).toEqual([]);
  });
});
