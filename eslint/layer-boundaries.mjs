// The layer rule of docs/architecture.md ("Layout and dependency direction"): each folder under
// src/ may import only the folders of its row below. Every relative import (and re-export, and
// dynamic import) is resolved to the folder it lands in, so a deep path (`../../store/x.js` from
// a nested folder) is judged like a shallow one. Tests and test builders may import anything, as
// bench/ and test/ may.
import path from 'node:path';

/** folder -> the folders it may import (its own is always allowed). */
export const ALLOWED = {
  core: [],
  store: ['core'],
  scheduler: ['core'],
  drivers: ['core'],
  runtime: ['core'],
  controllers: ['core', 'store', 'runtime', 'scheduler'],
  discovery: ['core', 'store', 'runtime'],
  api: ['core', 'store', 'runtime', 'scheduler', 'discovery'],
  server: ['core', 'store', 'scheduler', 'drivers', 'runtime', 'controllers', 'discovery', 'api'],
  client: ['core'],
  agent: ['core', 'client', 'drivers', 'runtime'],
  sim: ['core', 'client', 'drivers', 'agent'],
  cli: ['core', 'client', 'runtime'],
  web: ['core', 'client'],
};

/** Folders others may reach only through one file: the roots the CLI starts. */
export const ENTRY_POINTS = {
  server: 'src/server/index.ts',
  agent: 'src/agent/agent-root.ts',
  sim: 'src/sim/index.ts',
};

/** Who may use the entry points (besides the folder itself). */
const ENTRY_USERS = { server: ['cli'], agent: ['cli', 'sim'], sim: ['cli'] };

/**
 * Single files a folder may import outside its row, each with the reason. The API's log proxy
 * streams an agent's log with the client's streamGet (node:http, no body timeout) until the
 * client's transport moves below both.
 */
export const EXCEPTIONS = [{ from: 'api', target: 'src/client/stream-get.ts' }];

const TEST_FILE = /(\.test\.ts|\/test-[a-z-]+\.ts|\/fixtures\/.*)$/;

function folderOf(rel) {
  const parts = rel.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined;
}

function check(context, node, source) {
  if (typeof source !== 'string' || !source.startsWith('.')) return;
  const root = context.cwd;
  const file = path.relative(root, context.filename).split(path.sep).join('/');
  if (TEST_FILE.test(file)) return;
  const from = folderOf(file);
  if (!from || !(from in ALLOWED)) return;
  const target = path.relative(root, path.resolve(path.dirname(context.filename), source)).split(path.sep).join('/').replace(/\.js$/, '.ts');
  const to = folderOf(target);
  if (to === undefined) {
    context.report({ node, message: `${file} imports ${source}, outside src/: src/${from} may import only ${describe(from)}` });
    return;
  }
  if (to === from) return;
  if (ALLOWED[from].includes(to)) return;
  if (EXCEPTIONS.some((e) => e.from === from && e.target === target)) return;
  const entry = ENTRY_POINTS[to];
  if (entry && ENTRY_USERS[to]?.includes(from)) {
    if (target === entry) return;
    context.report({ node, message: `src/${from} reaches src/${to} only through its entry point ${entry}, not ${target}` });
    return;
  }
  context.report({ node, message: `src/${from} may not import src/${to} (${source}): it may import only ${describe(from)} (docs/architecture.md)` });
}

function describe(from) {
  const list = [...ALLOWED[from], ...Object.entries(ENTRY_USERS).filter(([, users]) => users.includes(from)).map(([to]) => `${to} (entry point)`)];
  return list.length > 0 ? list.join(', ') : 'nothing of the project';
}

export const layerBoundaries = {
  meta: { type: 'problem', schema: [], docs: { description: 'imports follow the layer table of docs/architecture.md' } },
  create(context) {
    const visit = (node) => check(context, node, node.source?.value);
    return {
      ImportDeclaration: visit,
      ExportNamedDeclaration: visit,
      ExportAllDeclaration: visit,
      ImportExpression: visit,
    };
  },
};

export default { rules: { 'layer-boundaries': layerBoundaries } };
