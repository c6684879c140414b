// `gantry rollout status|history|undo|pause|resume|promote service NAME` (also `svc/NAME`).
// `status -w` follows the rollout until it is Complete (exit 0) or Failed / RolledBack (exit 1).
import { Command } from '@commander-js/extra-typings';
import type { GantryClient, RolloutView } from '../client/types.js';
import { DEFAULT_NAMESPACE, resolveKind, sleep, UsageError } from '../core/index.js';
import { formatAge } from './age.js';
import { ReportedFailure } from './cli-error.js';
import { println, type CliContext } from './context.js';
import { clientFor } from './global-options.js';
import { objectRef, resolveKindArg } from './kind-arg.js';
import { parseCount } from './parse-count.js';
import { shutdownOnSignals } from './signals.js';
import { formatTable } from './table.js';

const ACTIONS = ['status', 'history', 'undo', 'pause', 'resume', 'promote'] as const;
type Action = (typeof ACTIONS)[number];
const WATCH_INTERVAL_MS = 1000;

/** `service web`, `svc/web` or `service/web` -> the service name. */
export function serviceTarget(kindOrRef: string, name: string | undefined, action = 'status'): string {
  const slash = kindOrRef.indexOf('/');
  const [kindWord, n] = slash >= 0 ? [kindOrRef.slice(0, slash), kindOrRef.slice(slash + 1)] : [kindOrRef, name];
  // `rollout status hello`: the kind was left out, and only services have rollouts.
  if (!resolveKind(kindWord) && name === undefined && slash < 0) {
    throw new UsageError(`rollouts are for services: gantry rollout ${action} service ${kindWord} (or svc/${kindWord})`);
  }
  const info = resolveKindArg(kindWord);
  if (info.kind !== 'Service') throw new UsageError(`rollouts are for services, not ${info.plural}: use gantry rollout status service NAME`);
  if (!n) throw new UsageError('name the service: gantry rollout status service NAME (or svc/NAME)');
  return n;
}

/** One line about the rollout: `service/web: v2 Progressing: rolling out v2: 2 of 4 ...`. */
export function statusLine(view: RolloutView): string {
  const s = view.status;
  const r = s?.rollout;
  const ref = objectRef('Service', view.service);
  if (!r) return `${ref}: no rollout yet (${s?.readyReplicas ?? 0}/${view.replicas} ready)`;
  const counts = `${s?.updatedReplicas ?? 0} up to date, ${s?.availableReplicas ?? 0} available, ${s?.readyReplicas ?? 0}/${view.replicas} ready`;
  return `${ref}: v${r.version} ${r.phase}: ${r.message ?? ''} (${counts})`;
}

export function historyTable(view: RolloutView, now: Date): string {
  const rows = view.history.map((h) => [`${h.current ? '*' : ''}v${h.version}`, h.images.join(','), h.cause ?? '', formatAge(h.createdAt, now)]);
  return formatTable(['VERSION', 'IMAGES', 'CAUSE', 'AGE'], rows);
}

const DONE = new Set(['Complete', 'Failed', 'RolledBack']);

async function watchStatus(ctx: CliContext, client: GantryClient, namespace: string, name: string): Promise<void> {
  const stop = shutdownOnSignals();
  let last = '';
  try {
    while (!stop.signal.aborted) {
      const view = await client.rollout(namespace, name);
      const line = statusLine(view);
      if (line !== last) println(ctx, line);
      last = line;
      const phase = view.status?.rollout?.phase;
      // Done only once the controller has seen the current spec (right after an apply it has not).
      const current = (view.status?.observedGeneration ?? 0) >= view.generation;
      if (phase && DONE.has(phase) && current) {
        if (phase !== 'Complete') throw new ReportedFailure();
        return;
      }
      await sleep(WATCH_INTERVAL_MS, stop.signal);
    }
  } finally {
    stop.dispose();
  }
}

export function rolloutCommand(ctx: CliContext) {
  return new Command('rollout')
    .description('follow and steer rollouts of a service: status, history, undo, pause, resume, promote')
    .argument('<action>', ACTIONS.join('|'))
    .argument('<kind>', 'service (or svc/NAME)')
    .argument('[name]', 'the service name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .option('--to-version <n>', 'undo: the version to return to (see rollout history)')
    .option('-w, --watch', 'status: print progress until the rollout is Complete or Failed')
    .action(async (actionWord, kind, nameArg, opts, cmd) => {
      if (!(ACTIONS as readonly string[]).includes(actionWord)) throw new UsageError(`unknown rollout action "${actionWord}": use one of ${ACTIONS.join(', ')}`);
      const action = actionWord as Action;
      const name = serviceTarget(kind, nameArg, action);
      const toVersion = opts.toVersion === undefined ? undefined : parseCount(opts.toVersion, '--to-version');
      if (toVersion !== undefined && action !== 'undo') throw new UsageError('--to-version goes with undo only: gantry rollout undo service NAME --to-version N');
      const client = await clientFor(ctx, cmd);
      const ns = opts.namespace;
      if (action === 'status') {
        if (opts.watch) return watchStatus(ctx, client, ns, name);
        const view = await client.rollout(ns, name);
        println(ctx, statusLine(view));
        for (const c of view.status?.conditions ?? []) if (c.type === 'Progressing' && c.status !== 'True') println(ctx, `  Progressing=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`);
        return;
      }
      if (action === 'history') {
        ctx.stdout(historyTable(await client.rollout(ns, name), ctx.now()));
        return;
      }
      const r = await client.rolloutAction(ns, name, action, toVersion !== undefined ? { toVersion } : {});
      println(ctx, `${objectRef('Service', name)}: ${r.message}`);
    });
}
