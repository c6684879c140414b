// `gantry top instances|nodes`: live usage from the agents' memory (never stored), beside what
// was requested: the scheduler places by requests, so usage next to them shows the overcommit.
import { Command } from '@commander-js/extra-typings';
import { DEFAULT_NAMESPACE, formatCpu, formatMemory, UsageError, type ContainerSeriesView, type StatsList } from '../core/index.js';
import type { GantryClient } from '../client/types.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { formatTable } from './table.js';

interface Row {
  name: string;
  node: string;
  cpuCores: number | undefined;
  cpuRequest: number;
  memory: number;
  memoryRequest: number;
  pids: number;
}

const SORTS = ['cpu', 'memory', 'name'] as const;

/** One row per instance: its containers' latest samples summed. */
export function instanceRows(lists: readonly StatsList[]): Row[] {
  const rows = new Map<string, Row>();
  for (const list of lists) {
    for (const s of list.items) {
      const key = `${s.namespace}/${s.instance}`;
      const last = s.samples.at(-1);
      let row = rows.get(key);
      if (!row) {
        row = { name: s.instance, node: list.node, cpuCores: undefined, cpuRequest: s.requests.cpuMillis, memory: 0, memoryRequest: s.requests.memoryBytes, pids: 0 };
        rows.set(key, row);
      }
      if (!last) continue;
      if (last.cpuCores !== undefined) row.cpuCores = (row.cpuCores ?? 0) + last.cpuCores;
      row.memory += last.memoryWorkingSetBytes;
      row.pids += last.pids;
    }
  }
  return [...rows.values()];
}

function pct(used: number, of: number): string {
  return of > 0 ? ` (${Math.round((used / of) * 100)}%)` : '';
}

export function formatTop(rows: Row[], sort: (typeof SORTS)[number], first: 'INSTANCE' | 'NODE'): string {
  const withNode = first === 'INSTANCE';
  rows.sort((a, b) => (sort === 'name' ? a.name.localeCompare(b.name) : sort === 'cpu' ? (b.cpuCores ?? -1) - (a.cpuCores ?? -1) : b.memory - a.memory));
  const body = rows.map((r) => {
    const cpu = r.cpuCores === undefined ? 'warming up' : `${formatCpu(Math.round(r.cpuCores * 1000))}${pct(r.cpuCores * 1000, r.cpuRequest)}`;
    return [r.name, ...(withNode ? [r.node] : []), cpu, formatCpu(r.cpuRequest), `${formatMemory(r.memory)}${pct(r.memory, r.memoryRequest)}`, formatMemory(r.memoryRequest), String(r.pids)];
  });
  return formatTable([first, ...(withNode ? ['NODE'] : []), 'CPU', 'CPU REQ', 'MEMORY', 'MEMORY REQ', 'PIDS'], body);
}

async function nodeLists(client: GantryClient, ctx: CliContext): Promise<StatsList[]> {
  const nodes = (await client.list('Node')).items.filter((n) => n.status?.ready && n.spec.agentPort !== undefined);
  const lists = await Promise.all(
    nodes.map((n) =>
      client.nodeStats(n.metadata.name).catch((e: unknown) => {
        ctx.stderr(`warning: node ${n.metadata.name}: ${e instanceof Error ? e.message : String(e)}\n`);
        return undefined;
      }),
    ),
  );
  return lists.filter((l): l is StatsList => l !== undefined);
}

export function topCommand(ctx: CliContext) {
  return new Command('top')
    .description('live CPU and memory beside requests: top instances [-n NS] | top nodes, [--sort cpu|memory|name]')
    .argument('<what>', 'instances or nodes')
    .option('-n, --namespace <ns>', 'namespace (instances)', DEFAULT_NAMESPACE)
    .option('--sort <by>', 'cpu, memory or name', 'cpu')
    .action(async (what, opts, cmd) => {
      const sort = SORTS.find((s) => s === opts.sort);
      if (!sort) throw new UsageError(`--sort must be one of ${SORTS.join(', ')}, not "${opts.sort}"`);
      const client = await clientFor(ctx, cmd);
      if (what === 'instances' || what === 'instance') {
        const lists = await nodeLists(client, ctx);
        const rows = instanceRows(lists.map((l) => ({ ...l, items: l.items.filter((s: ContainerSeriesView) => s.namespace === opts.namespace) })));
        if (rows.length === 0) return ctx.stdout(`no running instances with usage in namespace ${opts.namespace} yet (samples come every 10 s)\n`);
        return ctx.stdout(formatTop(rows, sort, 'INSTANCE'));
      }
      if (what === 'nodes' || what === 'node') {
        const lists = await nodeLists(client, ctx);
        const rows = lists.map((l) => {
          const sum = instanceRows([l]).reduce<Row>(
            (a, r) => ({ ...a, cpuCores: r.cpuCores === undefined ? a.cpuCores : (a.cpuCores ?? 0) + r.cpuCores, cpuRequest: a.cpuRequest + r.cpuRequest, memory: a.memory + r.memory, memoryRequest: a.memoryRequest + r.memoryRequest, pids: a.pids + r.pids }),
            { name: l.node, node: l.node, cpuCores: undefined, cpuRequest: 0, memory: 0, memoryRequest: 0, pids: 0 },
          );
          return sum;
        });
        return ctx.stdout(formatTop(rows, sort, 'NODE'));
      }
      throw new UsageError(`top shows instances or nodes, not "${what}"`);
    });
}
