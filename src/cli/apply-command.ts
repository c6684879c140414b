// `gantry apply -f FILE`: sends every document of a YAML file (or stdin) to the API, one by one,
// and reports each: `service/web created|configured|unchanged`, with `(replicas 5 → 3)` or
// `(rollout resumed ...)` when a configured Service's replicas or paused changed. A failure does not stop the rest;
// the exit code says whether all went through.
import { Command } from '@commander-js/extra-typings';
import type { GantryClient } from '../client/index.js';
import { DEFAULT_NAMESPACE, MalformedError, resolveKind, type AnyObject, type DryRunResult, type Manifest, type Service } from '../core/index.js';
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
    throw new MalformedError(code === 'ENOENT' ? `cannot read ${file}: no such file` : `cannot read ${file}: ${(e as Error).message}`);
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

/** The stored Service a manifest is about to replace, to say what an apply changes; else undefined. */
async function currentService(client: GantryClient, m: Manifest): Promise<Service | undefined> {
  if (resolveKind(m.kind)?.kind !== 'Service' || typeof m.metadata?.name !== 'string') return undefined;
  const namespace = typeof m.metadata.namespace === 'string' ? m.metadata.namespace : DEFAULT_NAMESPACE;
  return client.get('Service', namespace, m.metadata.name).catch(() => undefined);
}

/**
 * What an apply changed that a person may not expect: `replicas` and `paused` are spec, so a file
 * without them puts back its own replicas (undoing a `scale`) and resumes a paused rollout.
 */
function serviceChanges(before: AnyObject, after: AnyObject): string[] {
  if (before.kind !== 'Service' || after.kind !== 'Service') return [];
  const notes: string[] = [];
  if (before.spec.replicas !== after.spec.replicas) notes.push(`replicas ${before.spec.replicas} → ${after.spec.replicas}`);
  const was = before.spec.paused === true;
  const is = after.spec.paused === true;
  if (was !== is) notes.push(is ? 'rollout paused (paused: true in the file)' : 'rollout resumed: the file has no paused: true');
  return notes;
}

/** A dry run as text: `service/web would be configured (revision 12)`, the diff, the placement line. */
export function formatPlan(ref: string, plan: DryRunResult): string {
  const lines = [`${ref} would be ${plan.result}${plan.revision > 0 ? ` (planned against revision ${plan.revision})` : ''}`];
  if (plan.result !== 'unchanged') for (const d of plan.diff) if (d.op !== ' ' || plan.result === 'created') lines.push(`  ${d.op} ${d.line}`);
  if (plan.placement) lines.push(`  placement: ${plan.placement.summary}`);
  return `${lines.join('\n')}\n`;
}

export function applyCommand(ctx: CliContext) {
  return new Command('apply')
    .description('create or update the objects described in a YAML file')
    .requiredOption('-f, --filename <file>', 'a YAML file with one or more documents, or - for stdin')
    .option('-n, --namespace <ns>', 'namespace for documents that name none')
    .option('--dry-run', 'print what each apply would do (diff, where replicas would land) and store nothing')
    .action(async (opts, cmd) => {
      const file = opts.filename;
      const label = file === '-' ? '<stdin>' : file;
      const docs = parseManifests(await readSource(ctx, file), label);
      if (docs.length === 0) throw new MalformedError(`${label} has no documents to apply`);
      const client = await clientFor(ctx, cmd);
      let failed = 0;
      for (const doc of docs) {
        const manifest = withNamespace(doc.manifest, opts.namespace);
        const ref = refOf(manifest);
        try {
          if (opts.dryRun) {
            ctx.stdout(formatPlan(ref, await client.planApply(manifest)));
            continue;
          }
          const before = await currentService(client, manifest);
          const { result, object } = await client.apply(manifest);
          const notes = result === 'configured' && before ? serviceChanges(before, object) : [];
          ctx.stdout(`${ref} ${result}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}\n`);
        } catch (e) {
          failed++;
          ctx.stderr(formatCliError(e, { debug: isDebug(ctx.env), server: client.server }).replace(/^error: /, `error: ${label}, line ${doc.line}: ${ref}: `));
        }
      }
      if (failed > 0) throw new ReportedFailure(`${failed} of ${docs.length} documents failed`);
    });
}
