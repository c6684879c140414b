// Bundles the built CLI (dist/cli/main.js) into dist/cli-bundle/: `gantry get services` loaded
// about 930 module files (typebox alone is 683), and opening and linking them took most of a
// second; one bundled file loads in a few milliseconds. Packages that are native, resolve files at
// run time or are only needed by `up`/`server`/`agent`/`sim` stay external: those commands load the
// server's and agent's modules with `await import()` in their action, which esbuild turns into
// chunks of their own, so `get` never opens them. bin/gantry runs dist/cli-bundle/gantry.js.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

const REPO = new URL('../', import.meta.url);
/** Pure-JS packages every command needs; everything else in dependencies stays external. */
const BUNDLED = ['typebox', 'yaml', 'commander', '@commander-js/extra-typings', 'croner'];

const pkg = JSON.parse(readFileSync(new URL('package.json', REPO), 'utf8')) as { dependencies: Record<string, string> };
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.includes(name));
const outdir = new URL('dist/cli-bundle/', REPO).pathname;

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { gantry: new URL('dist/cli/main.js', REPO).pathname },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // commander and yaml are CommonJS: their require() of Node's modules needs a real require in ESM.
  banner: { js: "import { createRequire as __gantryCreateRequire } from 'node:module'; const require = __gantryCreateRequire(import.meta.url);" },
  // version-info.ts reads ../../package.json: every output file sits two levels below the repository.
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
});
