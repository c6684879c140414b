// onNodeReturn KeepOriginal: an instance Lost to a silent node is replaced as usual, but its
// object is kept (not deleted) for up to KEEP_ORIGINAL_MAX_MS, so that when the node heartbeats
// again the node controller can revive it and stop its replacement instead. While kept, the
// agent of the silent node (if it still runs) keeps the containers; nothing else counts the
// instance (it is Lost: not live, not an endpoint). After the limit, or when the node is
// deleted, the object goes like any finished instance and the agent removes the containers.
import { isAppError, isFinished, isLost, type Instance, type ServiceSpec } from '../../core/index.js';
import type { Store, TxnOp } from '../../store/store.js';
import { withStop } from '../shared/instance-stop.js';

/** How long a Lost original waits for its node before it is given up. */
export const KEEP_ORIGINAL_MAX_MS = 60 * 60_000;

/** Lost to a silent node (not a deleted one), with the time the node controller marked it. */
function lostToSilenceAt(i: Instance): number | undefined {
  const st = i.status;
  if (!st || !isLost(i) || st.reason !== 'NodeLost') return undefined;
  const at = Date.parse(st.updatedAt ?? '');
  return Number.isFinite(at) ? at : undefined;
}

/** True for a Lost original that its service wants back if its node returns (kept, not deleted). */
export function awaitsNodeReturn(onNodeReturn: ServiceSpec['onNodeReturn'], i: Instance, nowMs: number): boolean {
  if (onNodeReturn !== 'KeepOriginal') return false;
  const at = lostToSilenceAt(i);
  return at !== undefined && nowMs - at < KEEP_ORIGINAL_MAX_MS;
}

/** The original as running again: what its containers last reported, until its agent reports anew. */
export function revived(i: Instance, node: string, nowMs: number): Instance {
  const status = i.status!;
  const running = status.containers.length > 0 && status.containers.every((c) => c.state === 'running');
  return {
    ...i,
    status: {
      ...status,
      phase: running ? 'Running' : 'Starting',
      ready: running,
      reason: 'NodeReturned',
      message: `node ${node} came back; kept instead of its replacement (onNodeReturn KeepOriginal)`,
      updatedAt: new Date(nowMs).toISOString(),
    },
  };
}

/**
 * The instance that replaced `original`: the newest live one of its service, elsewhere, created
 * since the original was lost and not taken by another original (`taken`).
 */
export function replacementOf(original: Instance, siblings: readonly Instance[], taken: ReadonlySet<string>): Instance | undefined {
  const lostAt = lostToSilenceAt(original) ?? 0;
  let best: Instance | undefined;
  for (const s of siblings) {
    if (s.metadata.name === original.metadata.name || taken.has(s.metadata.name)) continue;
    if (s.spec.stop || s.spec.ownerKind === 'Job' || s.spec.node === original.spec.node) continue;
    if (isFinished(s)) continue;
    // A second of slack: createdAt has the store's clock, updatedAt the controller's.
    if (Date.parse(s.metadata.createdAt) < lostAt - 1000) continue;
    if (!best || Date.parse(s.metadata.createdAt) > Date.parse(best.metadata.createdAt)) best = s;
  }
  return best;
}

/**
 * On `node`'s return: revives each kept original there and stops its replacement, one txn per
 * pair. The originals come from the store (the node's index), so a server restart in between
 * loses none. `complete` is false when a write lost a race (the caller tries again).
 */
export async function keepOriginals(store: Store, node: string, onNodeReturnOf: (i: Instance) => ServiceSpec['onNodeReturn'], nowMs: number): Promise<{ kept: string[]; complete: boolean }> {
  const { items } = await store.list('Instance', { field: { path: 'spec.node', value: node } });
  const originals = items.filter((i) => i.spec.ownerKind !== 'Job' && awaitsNodeReturn(onNodeReturnOf(i), i, nowMs));
  const kept: string[] = [];
  const taken = new Set<string>();
  let complete = true;
  for (const original of originals) {
    const { items: siblings } = await store.list('Instance', { namespace: original.metadata.namespace, field: { path: 'spec.service', value: original.spec.service } });
    const replacement = replacementOf(original, siblings, taken);
    const ops: TxnOp[] = [{ op: 'update', object: revived(original, node, nowMs) }];
    if (replacement) {
      taken.add(replacement.metadata.name);
      ops.push({ op: 'update', object: withStop(replacement, `original ${original.metadata.name} is back (onNodeReturn KeepOriginal)`, nowMs) });
    }
    try {
      await store.txn(ops);
      kept.push(`${original.metadata.namespace}/${original.metadata.name}${replacement ? ` (stopped ${replacement.metadata.name})` : ''}`);
    } catch (e) {
      if (!isAppError(e, 'CONFLICT') && !isAppError(e, 'NOT_FOUND')) throw e;
      complete = false;
    }
  }
  return { kept, complete };
}
