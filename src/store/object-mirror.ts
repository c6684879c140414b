// The in-memory copy of the objects table, loaded at open and changed only after SQLite commits,
// so get and list never touch SQLite. Map by kind, then by `namespace/name`; cluster-scoped
// objects use the empty namespace. Iteration order is the order objects were first created.
import type { AnyObject, Kind } from '../core/index.js';

export function mirrorKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ObjectMirror {
  private readonly byKind = new Map<Kind, Map<string, AnyObject>>();

  get(kind: Kind, namespace: string | undefined, name: string): AnyObject | undefined {
    return this.byKind.get(kind)?.get(mirrorKey(namespace, name));
  }

  /** Objects of one kind, optionally of one namespace. A new array of the shared (frozen) objects. */
  list(kind: Kind, namespace?: string): AnyObject[] {
    const objects = this.byKind.get(kind);
    if (!objects) return [];
    const items: AnyObject[] = [];
    for (const o of objects.values()) {
      if (namespace === undefined || o.metadata.namespace === namespace) items.push(o);
    }
    return items;
  }

  set(obj: AnyObject): void {
    let objects = this.byKind.get(obj.kind);
    if (!objects) {
      objects = new Map();
      this.byKind.set(obj.kind, objects);
    }
    objects.set(mirrorKey(obj.metadata.namespace, obj.metadata.name), obj);
  }

  delete(kind: Kind, namespace: string | undefined, name: string): void {
    this.byKind.get(kind)?.delete(mirrorKey(namespace, name));
  }

  get size(): number {
    let n = 0;
    for (const objects of this.byKind.values()) n += objects.size;
    return n;
  }
}
