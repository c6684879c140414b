// `gantry events [-w] [-n NS | -A] [--for KIND/NAME]`: what happened, oldest first, in the
// columns of `gantry get events` (last seen, type, reason, object, message). With -w it keeps
// printing events as they are recorded or repeated (a repeat bumps an event's count and shows
// again), through a list-then-watch that resumes after a dropped connection.
import { Command } from '@commander-js/extra-typings';
import { AppError, DEFAULT_NAMESPACE, type AnyObject, type GantryEvent } from '../core/index.js';
import { Informer } from '../runtime/informer.js';
import type { CliContext } from './context.js';
import { tableFor } from './get-columns.js';
import { clientFor } from './global-options.js';
import { resolveKindArg } from './kind-arg.js';
import { shutdownOnSignals } from './signals.js';
import { formatTable } from './table.js';

export interface EventFilter {
  kind: string;
  name: string;
}

/** `node/node-a`, `svc/web`, `instance/web-abc12` -> the involved object to match. */
export function parseFor(text: string | undefined): EventFilter | undefined {
  if (text === undefined) return undefined;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw new AppError('MALFORMED', `--for must be KIND/NAME like node/node-a or service/web, not "${text}"`);
  return { kind: resolveKindArg(text.slice(0, slash)).kind, name: text.slice(slash + 1) };
}

export function matches(e: GantryEvent, f: EventFilter | undefined): boolean {
  return f === undefined || (e.spec.involved.kind === f.kind && e.spec.involved.name === f.name);
}

/** Pads `cells` to the widths of `header` (a stream's rows line up with its first table). */
function alignedRow(widths: readonly number[], cells: readonly string[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').replace(/\s+$/, '');
}

export function eventsCommand(ctx: CliContext) {
  return new Command('events')
    .description('what happened, oldest first: scheduling, starts, restarts, drains, crash loops, lost nodes; -w follows')
    .option('-w, --watch', 'keep printing new and repeated events (Ctrl-C to stop)')
    .option('-n, --namespace <ns>', 'namespace (node events are in the default namespace)', DEFAULT_NAMESPACE)
    .option('-A, --all-namespaces', 'events of every namespace')
    .option('--for <kind/name>', 'only events about this object, e.g. node/node-a, service/web, instance/web-abc12')
    .action(async (opts, cmd) => {
      const filter = parseFor(opts.for);
      const all = Boolean(opts.allNamespaces);
      const namespace = all ? undefined : opts.namespace;
      const client = await clientFor(ctx, cmd);
      const table = (items: readonly AnyObject[]) => tableFor('Event', items, { wide: false, allNamespaces: all, now: ctx.now() });
      const keep = (items: readonly AnyObject[]) => items.filter((o): o is GantryEvent => o.kind === 'Event' && matches(o, filter));
      if (!opts.watch) {
        const items = keep((await client.list('Event', { namespace })).items);
        if (items.length === 0) return ctx.stderr(`No events${filter ? ` for ${opts.for}` : ''}${all ? '' : ` in namespace ${opts.namespace}`}.\n`);
        const t = table(items);
        return ctx.stdout(formatTable(t.headers, t.rows));
      }
      let widths: number[] = [];
      const stop = shutdownOnSignals();
      try {
        // The informer's cache holds the events seen; with onSync, a list arrives only there.
        const informer = new Informer({ source: client, kind: 'Event', select: { namespace } });
        const print = (e: GantryEvent) => {
          const [row] = table(keep([e])).rows;
          if (row) ctx.stdout(`${alignedRow(widths, row)}\n`);
        };
        informer.addHandlers({
          onSync: (items) => {
            // After a relist (the watch fell too far behind) only what is new since is printed.
            if (widths.length > 0) return;
            const t = table(keep(items));
            widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
            ctx.stdout(formatTable(t.headers, t.rows));
          },
          onAdd: print,
          onUpdate: (_old, e) => print(e),
        });
        await informer.run(stop.signal);
      } finally {
        stop.dispose();
      }
    });
}
