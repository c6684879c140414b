// Which instances belong to which service, so a service reconcile looks at its own instances
// instead of scanning every instance of the namespace (the Store can list only by kind and
// namespace). The index only says WHICH names to look at; the controller re-reads each one from
// the store before acting, so a stale entry costs one map lookup and never a wrong write.
//
// Fed by the Instance informer (add, update, delete, relist) and, synchronously, by the service
// controller's own creates and deletes: the informer lags the store by a few ticks, and a
// reconcile that missed its own fresh creates would create them again.
import { nsKey } from './instance-phase.js';

/** The parts of an Instance the index reads. */
type Owned = { metadata: { namespace?: string | undefined; name: string }; spec: { service: string } };

export class InstanceIndex {
  private readonly byService = new Map<string, Set<string>>();

  /** Remembers `inst` under its service; idempotent. */
  add(inst: Owned): void {
    const key = nsKey(inst.metadata.namespace, inst.spec.service);
    let names = this.byService.get(key);
    if (!names) {
      names = new Set();
      this.byService.set(key, names);
    }
    names.add(inst.metadata.name);
  }

  remove(inst: Owned): void {
    const key = nsKey(inst.metadata.namespace, inst.spec.service);
    const names = this.byService.get(key);
    if (!names) return;
    names.delete(inst.metadata.name);
    if (names.size === 0) this.byService.delete(key);
  }

  /** Names last known under the service; some may be gone from the store already. */
  names(namespace: string, service: string): string[] {
    return [...(this.byService.get(nsKey(namespace, service)) ?? [])];
  }
}
