// `gantry endpoints SERVICE`: the service's ready endpoints from the catalog, as a table; with -w,
// then one line per endpoint that comes or goes until Ctrl-C.
import { Command } from '@commander-js/extra-typings';
import type { Endpoint } from '../client/types.js';
import { DEFAULT_NAMESPACE } from '../core/index.js';
import { println, type CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { shutdownOnSignals } from './signals.js';
import { formatTable } from './table.js';

const ENDPOINT_HEADERS = ['INSTANCE', 'NODE', 'ADDRESS', 'PORT', 'HOST-PORT', 'HEALTH'] as const;

function endpointRow(e: Endpoint, health: string = e.health): string[] {
  return [e.instance, e.node, e.address, `${e.port} (${e.containerPort}/${e.protocol})`, String(e.hostPort), health];
}

const endpointKey = (e: Endpoint): string => `${e.instance}/${e.port}/${e.address}:${e.hostPort}`;

/** What changed between two sets, as table rows: new endpoints first ("passing"), then gone ones. */
function endpointChanges(before: readonly Endpoint[], after: readonly Endpoint[]): string[][] {
  const old = new Map(before.map((e) => [endpointKey(e), e]));
  const now = new Map(after.map((e) => [endpointKey(e), e]));
  const rows: string[][] = [];
  for (const [k, e] of now) if (!old.has(k)) rows.push(endpointRow(e));
  for (const [k, e] of old) if (!now.has(k)) rows.push(endpointRow(e, 'removed'));
  return rows;
}

export function endpointsCommand(ctx: CliContext) {
  return new Command('endpoints')
    .description("list a service's ready endpoints (address and host port of each instance's named ports)")
    .argument('<service>', 'the service name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .option('-w, --watch', 'after the table, print every endpoint that comes or goes until Ctrl-C')
    .action(async (service, opts, cmd) => {
      const client = await clientFor(ctx, cmd);
      if (!opts.watch) {
        const set = await client.endpoints(opts.namespace, service);
        if (set.endpoints.length === 0) println(ctx, `service ${opts.namespace}/${service} has no ready endpoints`);
        else ctx.stdout(formatTable(ENDPOINT_HEADERS, set.endpoints.map((e) => endpointRow(e))));
        return;
      }
      // Fails fast (NOT_FOUND) for a service that does not exist, before streaming.
      await client.endpoints(opts.namespace, service);
      const stop = shutdownOnSignals();
      let shown: Endpoint[] | undefined;
      try {
        for await (const ev of client.watchEndpoints(opts.namespace, service, stop.signal)) {
          if (!ev.object) continue;
          if (shown === undefined) {
            ctx.stdout(formatTable(ENDPOINT_HEADERS, ev.object.endpoints.map((e) => endpointRow(e))));
          } else {
            const rows = endpointChanges(shown, ev.object.endpoints);
            // Only the rows: the header was printed with the table above.
            if (rows.length > 0) ctx.stdout(formatTable(ENDPOINT_HEADERS, rows).split('\n').slice(1).join('\n'));
          }
          shown = ev.object.endpoints;
        }
      } catch (e) {
        if (!stop.signal.aborted) throw e;
      } finally {
        stop.dispose();
      }
    });
}
