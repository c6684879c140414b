// The layer rule of eslint.config.mjs (eslint/layer-boundaries.mjs) run through ESLint's Node API
// on fixture sources: it fails on a wrong import, a deep relative one included, and passes the
// table's allowed ones. Only the rule's own config entry is used (no type information: fast).
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

async function layerErrors(file: string, code: string): Promise<string[]> {
  const { default: config } = (await import(path.join(root, 'eslint.config.mjs'))) as { default: Linter.Config[] };
  const entry = config.find((c) => c.plugins && 'gantry' in c.plugins);
  if (!entry) throw new Error('eslint.config.mjs has no gantry/layer-boundaries entry');
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, entry],
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'gantry/layer-boundaries').map((m) => m.message);
}

describe('the layer-boundaries lint rule', () => {
  it('refuses core importing the store', async () => {
    expect(await layerErrors('src/core/fixture.ts', "import type { Store } from '../store/store.js';\n")).toEqual([
      expect.stringContaining('src/core may not import src/store'),
    ]);
  });

  it('catches a deep relative path from a nested folder', async () => {
    const errors = await layerErrors('src/discovery/haproxy/fixture.ts', "export { buildApp } from '../../api/app.js';\nimport '../../controllers/index.js';\n");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('src/discovery may not import src/api');
    expect(errors[1]).toContain('src/discovery may not import src/controllers');
  });

  it('keeps the CLI to the entry points of the roots', async () => {
    expect(await layerErrors('src/cli/fixture.ts', "import { startServer } from '../server/index.js';\nimport { runNodeAgent } from '../agent/agent-root.js';\n")).toEqual([]);
    expect(await layerErrors('src/cli/fixture.ts', "import { startServer } from '../server/server-root.js';\n")).toEqual([
      expect.stringContaining('only through its entry point src/server/index.ts'),
    ]);
    expect(await layerErrors('src/cli/fixture.ts', "import { Store } from '../store/store.js';\n")).toEqual([expect.stringContaining('src/cli may not import src/store')]);
  });

  it('lets each folder import its row, and tests import anything', async () => {
    expect(await layerErrors('src/controllers/service/fixture.ts', "import '../../runtime/informer.js';\nimport '../../store/store.js';\nimport '../../scheduler/index.js';\n")).toEqual([]);
    expect(await layerErrors('src/agent/fixture.ts', "import '../client/types.js';\nimport '../runtime/informer.js';\n")).toEqual([]);
    expect(await layerErrors('src/core/fixture.test.ts', "import '../store/sqlite-store.js';\n")).toEqual([]);
  });
});
