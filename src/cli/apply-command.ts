// `gantry apply -f FILE`: sends every document of a YAML file (or stdin) to the API, one by one,
// and reports each: `service/web created|configured|unchanged`. A failure does not stop the rest;
// the exit code says whether all went through.
import { Command } from '@commander-js/extra-typings';
import { AppError, resolveKind, type Manifest } from '../core/index.js';
import { formatCliError, isDebug, ReportedFailure } from './cli-error.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { objectRef } from './kind-arg.js';
import { parseManifests } from './manifest-parse.js';

async function readSource(ctx: CliContext, file: string): Promise<string> {
  if (file === '-') return ctx.readStdin();
  try {
    return await ctx.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AppError('MALFORMED', code === 'ENOENT' ? `cannot read ${file}: no such file` : `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Fills the namespace from `-n` for namespaced kinds that do not name one. */
function withNamespace(m: Manifest, namespace: string | undefined): Manifest {
  const info = resolveKind(m.kind);
  if (!namespace || !info?.namespaced || m.metadata?.namespace) return m;
  return { ...m, metadata: { ...m.metadata, namespace } };
}

function refOf(m: Manifest): string {
  const info = resolveKind(m.kind);
  const name = typeof m.metadata?.name === 'string' ? m.metadata.name : '<unnamed>';
  return objectRef(info?.kind ?? String(m.kind), name);
}

export function applyCommand(ctx: CliContext) {
  return new Command('apply')
    .description('create or update the objects described in a YAML file')
    .requiredOption('-f, --filename <file>', 'a YAML file with one or more documents, or - for stdin')
    .option('-n, --namespace <ns>', 'namespace for documents that name none')
    .action(async (opts, cmd) => {
      const file = opts.filename;
      const label = file === '-' ? '<stdin>' : file;
      const docs = parseManifests(await readSource(ctx, file), label);
      if (docs.length === 0) throw new AppError('MALFORMED', `${label} has no documents to apply`);
      const client = await clientFor(ctx, cmd);
      let failed = 0;
      for (const doc of docs) {
        const manifest = withNamespace(doc.manifest, opts.namespace);
        const ref = refOf(manifest);
        try {
          const { result } = await client.apply(manifest);
          ctx.stdout(`${ref} ${result}\n`);
        } catch (e) {
          failed++;
          ctx.stderr(formatCliError(e, { debug: isDebug(ctx.env), server: client.server }).replace(/^error: /, `error: ${label}, line ${doc.line}: ${ref}: `));
        }
      }
      if (failed > 0) throw new ReportedFailure(`${failed} of ${docs.length} documents failed`);
    });
}
