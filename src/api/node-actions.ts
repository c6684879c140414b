// Node maintenance (admin token): cordon, uncordon, drain. Each is one CAS write of the Node's
// spec, retried on a conflict (an agent's status write or re-registration may land in between),
// and idempotent: asking for what is already true changes nothing and says so.
//   cordon:   spec.unschedulable = true            (nothing new is placed there)
//   drain:    spec.unschedulable + spec.draining   (the drain controller moves its instances away)
//   uncordon: clears both                          (a drained node stays draining until then)
import { NotFoundError, type GantryNode, type NodeAction } from '../core/index.js';
import type { Store } from '../store/store.js';
import { retryOnConflict } from '../runtime/retry-on-conflict.js';

export { NODE_ACTIONS, type NodeAction } from '../core/index.js';

export interface NodeActionResult {
  node: GantryNode;
  changed: boolean;
  message: string;
  /** The event to record when something changed. */
  reason: string;
}

/** The node after `action`, or undefined when it already is that way. */
function applyAction(node: GantryNode, action: NodeAction): GantryNode | undefined {
  const { unschedulable, draining, ...rest } = node.spec;
  switch (action) {
    case 'cordon':
      // A draining node stays draining: only uncordon stops a drain.
      return unschedulable ? undefined : { ...node, spec: { ...node.spec, unschedulable: true } };
    case 'drain':
      return unschedulable && draining ? undefined : { ...node, spec: { ...node.spec, unschedulable: true, draining: true } };
    case 'uncordon':
      return !unschedulable && !draining ? undefined : { ...node, spec: rest };
  }
}

function messageFor(name: string, action: NodeAction, changed: boolean): { message: string; reason: string } {
  switch (action) {
    case 'cordon':
      return { reason: 'NodeCordoned', message: changed ? `node ${name} cordoned: no new instances are placed there` : `node ${name} is already cordoned` };
    case 'drain':
      return { reason: 'NodeDraining', message: changed ? `node ${name} is draining: its service instances move to other nodes` : `node ${name} is already draining` };
    case 'uncordon':
      return { reason: 'NodeUncordoned', message: changed ? `node ${name} uncordoned: instances may be placed there again` : `node ${name} is already schedulable` };
  }
}

export async function nodeAction(store: Store, name: string, action: NodeAction): Promise<NodeActionResult> {
  return retryOnConflict(async () => {
    const node = await store.get('Node', undefined, name);
    if (!node) {
      const known = (await store.list('Node')).items.map((n) => n.metadata.name).slice(0, 10);
      throw new NotFoundError('Node', undefined, name, `node "${name}" not found: see gantry get nodes${known.length > 0 ? ` (nodes: ${known.join(', ')})` : ''}`);
    }
    const next = applyAction(node, action);
    if (!next) return { node, changed: false, ...messageFor(name, action, false) };
    return { node: await store.update(next), changed: true, ...messageFor(name, action, true) };
  });
}
