// `gantry get KIND [NAME]`: a table, or the full objects with -o json|yaml.
import { Command } from '@commander-js/extra-typings';
import type { GantryClient, LoadBalancerStatus } from '../client/index.js';
import { DEFAULT_NAMESPACE, namespaceOf, UsageError, type AnyObject } from '../core/index.js';
import { eventSelection, selectEvents } from './events-command.js';
import type { CliContext } from './context.js';
import { isJobRun, liveInstancesPerNode, tableFor } from './get-columns.js';
import { clientFor } from './global-options.js';
import { kindHelp, resolveKindArg } from './kind-arg.js';
import { parseOutputFormat, renderObjects } from './output-format.js';
import { formatTable } from './table.js';

export function getCommand(ctx: CliContext) {
  return new Command('get')
    .description('list objects of a kind, or show one')
    .argument('<kind>', kindHelp())
    .argument('[name]', 'one object by name')
    .option('-o, --output <format>', 'wide, json or yaml')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .option('-A, --all-namespaces', 'objects of every namespace')
    .option('--for <kind/name>', 'events only: those about this object, e.g. service/web')
    .option('--limit <n>', 'events only: the last N')
    .option('--since <duration>', 'events only: those seen in the last DURATION, e.g. 10m')
    .option('--jobs', "instances only: job runs (JOB column) instead of services' instances")
    .action(async (kindWord, name, opts, cmd) => {
      const info = resolveKindArg(kindWord);
      const format = parseOutputFormat(opts.output);
      const eventOpts = [opts.for && '--for', opts.limit && '--limit', opts.since && '--since'].filter(Boolean);
      if (eventOpts.length > 0 && info.kind !== 'Event') throw new UsageError(`${eventOpts.join(', ')} only ${eventOpts.length === 1 ? 'goes' : 'go'} with gantry get events`);
      if (opts.jobs && info.kind !== 'Instance') throw new UsageError('--jobs only goes with gantry get instances');
      // Services' instances and job runs are listed apart: a Job's name is no service.
      const jobRuns = Boolean(opts.jobs);
      const client = await clientFor(ctx, cmd);
      const all = Boolean(opts.allNamespaces) && name === undefined;
      const namespace = info.namespaced && !all ? opts.namespace : undefined;
      let items: AnyObject[];
      if (name !== undefined) {
        const one = await client.get(info.kind, namespace, name);
        if (format === 'json' || format === 'yaml') return ctx.stdout(await renderObjects(format, one));
        items = [one];
      } else {
        items = (await client.list(info.kind, { namespace })).items;
        if (info.kind === 'Instance') items = items.filter((i) => i.kind === 'Instance' && isJobRun(i) === jobRuns);
        if (info.kind === 'Event') items = selectEvents(items, await eventSelection(client, opts, namespace, ctx.now()));
        if (format === 'json' || format === 'yaml') return ctx.stdout(await renderObjects(format, items));
      }
      if (items.length === 0) {
        const what = jobRuns ? 'job runs' : info.plural;
        ctx.stderr(info.namespaced && !all ? `No ${what} in namespace ${opts.namespace}.\n` : `No ${what}.\n`);
        return;
      }
      const instancesPerNode = info.kind === 'Node' ? liveInstancesPerNode((await client.list('Instance')).items) : undefined;
      // One instance asked for by name: the column its owner calls for.
      const showJob = jobRuns || (name !== undefined && items[0]?.kind === 'Instance' && isJobRun(items[0]));
      const loadBalancers = info.kind === 'Service' && format === 'wide' ? await loadBalancersOf(client, items) : undefined;
      const t = tableFor(info.kind, items, { wide: format === 'wide', allNamespaces: all && info.namespaced, now: ctx.now(), instancesPerNode, loadBalancers, jobRuns: showJob });
      ctx.stdout(formatTable(t.headers, t.rows));
    });
}

/** The LB status of each service that exposes something (one request each; none for the rest). */
async function loadBalancersOf(client: GantryClient, items: readonly AnyObject[]): Promise<Map<string, LoadBalancerStatus>> {
  const out = new Map<string, LoadBalancerStatus>();
  for (const s of items) {
    if (s.kind !== 'Service' || (s.spec.expose ?? []).length === 0) continue;
    const ns = namespaceOf(s);
    out.set(`${ns}/${s.metadata.name}`, await client.loadBalancer(ns, s.metadata.name));
  }
  return out;
}
