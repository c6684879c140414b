// `gantry events [-w] [-n NS | -A] [--for KIND/NAME] [--limit N] [--since 10m]` (also `gantry get
// events` with the same options): what happened, oldest first, in the
// columns of `gantry get events` (last seen, type, reason, object, message). With -w it keeps
// printing events as they are recorded or repeated (a repeat bumps an event's count and shows
// again), through a list-then-watch that resumes after a dropped connection.
import { Command } from '@commander-js/extra-typings';
import type { GantryClient } from '../client/index.js';
import { DEFAULT_NAMESPACE, parseDuration, UsageError, type AnyObject, type GantryEvent } from '../core/index.js';
import { Informer } from '../runtime/informer.js';
import { isAbout } from './events-about.js';
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
  if (slash <= 0 || slash === text.length - 1) throw new UsageError(`--for must be KIND/NAME like node/node-a or service/web, not "${text}"`);
  return { kind: resolveKindArg(text.slice(0, slash)).kind, name: text.slice(slash + 1) };
}

/** `obj`: the object --for names, when it exists; then only its own events (its uid), not a predecessor's. */
export function matches(e: GantryEvent, f: EventFilter | undefined, obj?: AnyObject): boolean {
  if (f === undefined) return true;
  if (obj) return isAbout(e, obj);
  return e.spec.involved.kind === f.kind && e.spec.involved.name === f.name;
}

export interface EventSelection {
  filter?: EventFilter | undefined;
  /** The object the filter names, if it exists. */
  object?: AnyObject | undefined;
  /** Only the last N. */
  limit?: number | undefined;
  /** Only events last seen at or after this time (ms). */
  sinceMs?: number | undefined;
}

/** The events to print, oldest first. */
export function selectEvents(items: readonly AnyObject[], sel: EventSelection): GantryEvent[] {
  const kept = items
    .filter((o): o is GantryEvent => o.kind === 'Event' && matches(o, sel.filter, sel.object))
    .filter((e) => sel.sinceMs === undefined || Date.parse(e.spec.lastTime) >= sel.sinceMs)
    // Events of one instant in the order they were written.
    .sort((a, b) => a.spec.lastTime.localeCompare(b.spec.lastTime) || a.metadata.revision - b.metadata.revision);
  return sel.limit !== undefined ? kept.slice(-sel.limit) : kept;
}

/** `--limit N`, `--since 10m` and `--for KIND/NAME` (the object read once, for its uid). */
export async function eventSelection(client: GantryClient, opts: { for?: string | undefined; limit?: string | undefined; since?: string | undefined }, namespace: string | undefined, now: Date): Promise<EventSelection> {
  const filter = parseFor(opts.for);
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number of events, at least 1, not "${opts.limit}"`);
  }
  let sinceMs: number | undefined;
  if (opts.since !== undefined) {
    const ms = parseDuration(opts.since);
    if (ms === undefined) throw new UsageError(`--since must be a duration like 30s, 10m or 2h, not "${opts.since}"`);
    sinceMs = now.getTime() - ms;
  }
  let object: AnyObject | undefined;
  if (filter) {
    const info = resolveKindArg(filter.kind);
    object = await client.get(info.kind, info.namespaced ? (namespace ?? DEFAULT_NAMESPACE) : undefined, filter.name).catch(() => undefined);
  }
  return { filter, object, limit, sinceMs };
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
    .option('--limit <n>', 'only the last N events')
    .option('--since <duration>', 'only events seen in the last DURATION, e.g. 10m')
    .action(async (opts, cmd) => {
      const all = Boolean(opts.allNamespaces);
      const namespace = all ? undefined : opts.namespace;
      const client = await clientFor(ctx, cmd);
      const sel = await eventSelection(client, opts, namespace, ctx.now());
      const filter = sel.filter;
      const table = (items: readonly AnyObject[]) => tableFor('Event', items, { wide: false, allNamespaces: all, now: ctx.now() });
      const keep = (items: readonly AnyObject[]) => items.filter((o): o is GantryEvent => o.kind === 'Event' && matches(o, filter, sel.object));
      if (!opts.watch) {
        const items = selectEvents((await client.list('Event', { namespace })).items, sel);
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
            const t = table(selectEvents(items, sel));
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
