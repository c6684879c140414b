// `gantry node cordon|uncordon|drain NAME`. Cordon keeps new instances off a node; drain also
// moves its service instances away (the server's drain controller evicts them and each service
// replaces them surge-first within its maxUnavailable); uncordon ends both. `drain` waits until
// the node is empty (job runs there finish first), printing a progress line whenever the count
// changes; `--no-wait` returns at once. The node stays cordoned after a drain until uncordoned.
import { Command } from '@commander-js/extra-typings';
import type { GantryClient, NodeAction } from '../client/types.js';
import { isFinished, sleep, UnavailableError, UsageError, type Instance } from '../core/index.js';
import { println, type CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { durationOption } from './process-options.js';
import { shutdownOnSignals } from './signals.js';

const ACTIONS: readonly NodeAction[] = ['cordon', 'uncordon', 'drain'];
const POLL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Names shown in a progress line before "and N more". */
const NAMES_SHOWN = 5;

/** Instances still on the node: bound there and not finished. */
function leftOn(items: readonly Instance[], node: string): Instance[] {
  return items.filter((i) => i.spec.node === node && !isFinished(i));
}

function someNames(items: readonly Instance[]): string {
  const names = items.map((i) => i.metadata.name).sort();
  const more = names.length - NAMES_SHOWN;
  return names.slice(0, NAMES_SHOWN).join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** `drain node-a: 3 of 5 instances moved (2 left: web-x, web-y)`. */
export function progressLine(node: string, total: number, left: readonly Instance[]): string {
  const moved = Math.max(0, total - left.length);
  return `drain ${node}: ${moved} of ${total} instance${total === 1 ? '' : 's'} moved (${left.length} left: ${someNames(left)})`;
}

/** Follows a drain until the node holds no unfinished instance; throws when `timeoutMs` passes first. */
async function followDrain(ctx: CliContext, client: GantryClient, node: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const list = async () => leftOn((await client.list('Instance', { fieldSelector: `spec.node=${node}` })).items, node);
  let left = await list();
  let total = left.length;
  let last = '';
  while (!signal.aborted) {
    if (left.length === 0) {
      println(ctx, `node ${node} drained`);
      return;
    }
    // Instances that arrived after the drain began (a job run bound just before) count too.
    total = Math.max(total, left.length);
    const line = progressLine(node, total, left);
    if (line !== last) println(ctx, line);
    last = line;
    if (Date.now() - started >= timeoutMs) {
      throw new UnavailableError(`node ${node} still holds ${left.length} instance${left.length === 1 ? '' : 's'} (${someNames(left)}) after ${Math.round(timeoutMs / 1000)}s; ` +
          `the drain goes on: see gantry events --for node/${node} and gantry describe service SERVICE for what holds them (no room elsewhere, maxUnavailable 0 with a fixed hostPort, a long job run)`,
      );
    }
    await sleep(POLL_MS, signal);
    left = await list();
  }
}

export function nodeCommand(ctx: CliContext) {
  return new Command('node')
    .description("node maintenance: cordon (no new instances), drain (move instances away), uncordon (schedulable again); revoke (refuse the node's credential at once)")
    .argument('<action>', [...ACTIONS, 'revoke'].join('|'))
    .argument('<name>', 'the node name (see gantry get nodes)')
    .option('--no-wait', 'drain: return once the drain has started')
    .option('--timeout <duration>', 'drain: how long to wait for the node to empty', '10m')
    .action(async (actionWord, name, opts, cmd) => {
      if (actionWord === 'revoke') {
        const r = await (await clientFor(ctx, cmd)).revokeNode(name);
        println(ctx, r.message);
        return;
      }
      if (!(ACTIONS as readonly string[]).includes(actionWord)) throw new UsageError(`unknown node action "${actionWord}": use one of ${[...ACTIONS, 'revoke'].join(', ')}`);
      const action = actionWord as NodeAction;
      const timeoutMs = durationOption(opts.timeout, '--timeout') ?? DEFAULT_TIMEOUT_MS;
      const client = await clientFor(ctx, cmd);
      const r = await client.nodeAction(name, action);
      println(ctx, r.message);
      if (action !== 'drain' || !opts.wait) return;
      const stop = shutdownOnSignals();
      try {
        await followDrain(ctx, client, name, timeoutMs, stop.signal);
      } finally {
        stop.dispose();
      }
    });
}
