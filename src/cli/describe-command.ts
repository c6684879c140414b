// `gantry describe KIND NAME`: one object in detail, with its events.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE } from '../core/index.js';
import type { CliContext } from './context.js';
import { formatDescribe } from './describe-format.js';
import { formatLbSection } from './lb-format.js';
import { formatNamespaceUsage } from './namespace-usage.js';
import { cronJobRuns } from './job-columns.js';
import { clientFor } from './global-options.js';
import { kindHelp, resolveKindArg } from './kind-arg.js';

export function describeCommand(ctx: CliContext) {
  return new Command('describe')
    .description('show one object in detail, with its events')
    .argument('<kind>', kindHelp())
    .argument('<name>', 'the object name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (kindWord, name, opts, cmd) => {
      const info = resolveKindArg(kindWord);
      const client = await clientFor(ctx, cmd);
      const namespace = info.namespaced ? opts.namespace : undefined;
      const obj = await client.get(info.kind, namespace, name);
      // Events of cluster-wide objects (nodes) may be recorded in any namespace.
      const events = (await client.list('Event', { namespace })).items;
      let sections = obj.kind === 'Service' && (obj.spec.expose ?? []).length > 0 ? formatLbSection(await client.loadBalancer(namespace ?? DEFAULT_NAMESPACE, name)) : '';
      if (obj.kind === 'Namespace') {
        const [services, jobs] = await Promise.all([client.list('Service', { namespace: name }), client.list('Job', { namespace: name })]);
        sections += formatNamespaceUsage(obj, services.items, jobs.items);
      }
      ctx.stdout(formatDescribe(obj, events, ctx.now(), sections));
      if (obj.kind === 'CronJob') ctx.stdout(cronJobRuns(obj, (await client.list('Job', { namespace })).items, ctx.now()));
    });
}
