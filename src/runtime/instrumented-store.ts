// A Store that times its writes into the server's metrics (gantry_store_write_duration_seconds by
// op, gantry_store_txn_operations for batch sizes) and is otherwise the store it wraps: reads,
// watches and everything else pass straight through.
import { forEachSliced } from './sliced.js';
import type { Store } from '../core/index.js';
import type { ClusterCounts, ServerMetrics } from './metrics.js';

const TIMED = new Set<PropertyKey>(['create', 'update', 'delete', 'txn', 'txnNow']);

export function instrumentStore<S extends Store>(store: S, metrics: ServerMetrics): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (fn === undefined) {
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        fn = TIMED.has(prop)
          ? async (...args: unknown[]) => {
              if ((prop === 'txn' || prop === 'txnNow') && Array.isArray(args[0])) metrics.storeTxnOps.observe(args[0].length);
              const end = metrics.storeWrites.startTimer({ op: String(prop) });
              try {
                return await bound(...args);
              } finally {
                end();
              }
            }
          : bound;
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/** Nodes by condition and instances by phase, as a scrape reports them (gantry_nodes, gantry_instances). */
export async function clusterCounts(store: Store): Promise<ClusterCounts> {
  const [nodes, instances, events] = await Promise.all([store.list('Node'), store.list('Instance'), store.list('Event')]);
  const byCondition = new Map<string, number>();
  const bump = (condition: string, status: string): void => {
    const key = `${condition}\u0000${status}`;
    byCondition.set(key, (byCondition.get(key) ?? 0) + 1);
  };
  await forEachSliced(nodes.items, (n) => {
    bump('Ready', n.status?.ready ? 'True' : 'False');
    if (n.spec.unschedulable) bump('Unschedulable', 'True');
    for (const c of n.status?.conditions ?? []) if (c.type !== 'Ready') bump(c.type, c.status);
  });
  const phases = new Map<string, number>();
  // Sliced: a scrape of 100,000 instances must not hold the loop (sliced.ts).
  await forEachSliced(instances.items, (i) => {
    const phase = i.status?.phase ?? 'Pending';
    phases.set(phase, (phases.get(phase) ?? 0) + 1);
  });
  return {
    nodes: [...byCondition].map(([key, count]) => {
      const [condition = '', status = ''] = key.split('\u0000');
      return { condition, status, count };
    }),
    instances: phases,
    events: events.items.length,
  };
}
