// Which instances go first when a service has too many: the ones doing the least work. Unbound
// Pending instances cost nothing to remove, then other Pending, then not-ready, then the newest
// (the oldest have proven themselves).
import { isReady, type Instance } from '../../core/index.js';

function rank(i: Instance): number {
  const pending = (i.status?.phase ?? 'Pending') === 'Pending';
  if (pending && !i.spec.node) return 0;
  if (pending) return 1;
  if (!isReady(i)) return 2;
  return 3;
}

export function scaleDownOrder(instances: readonly Instance[]): Instance[] {
  return [...instances].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      Date.parse(b.metadata.createdAt) - Date.parse(a.metadata.createdAt) ||
      // Same second: a larger revision was created later.
      b.metadata.revision - a.metadata.revision,
  );
}
