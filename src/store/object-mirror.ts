// The in-memory copy of the objects table, loaded at open and changed only after SQLite commits,
// so get and list never touch SQLite. Map by kind, then by `namespace/name`; cluster-scoped
// objects use the empty namespace. Iteration order is the order objects were first created.
//
// Secondary indexes (field value -> keys) serve `list(kind, {field})` in O(matching objects). One
// is built for a (kind, path) the first time someone lists by it, then kept up to date on every
// write, so kinds nobody selects by (Events) cost nothing.
import type { AnyObject, Kind } from '../core/index.js';
import { fieldValue } from './field-index.js';
import type { FieldPath, FieldSelector } from './store.js';

function mirrorKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Field value (undefined = field absent) -> keys of the objects holding it, in the order they took it. */
type FieldIndex = Map<string | undefined, Set<string>>;

export class ObjectMirror {
  private readonly byKind = new Map<Kind, Map<string, AnyObject>>();
  private readonly indexes = new Map<Kind, Map<FieldPath, FieldIndex>>();

  get(kind: Kind, namespace: string | undefined, name: string): AnyObject | undefined {
    return this.byKind.get(kind)?.get(mirrorKey(namespace, name));
  }

  /**
   * Objects of one kind, optionally of one namespace and with one field value. A new array of the
   * shared (frozen) objects; by field, in the order the objects took the value.
   */
  list(kind: Kind, namespace?: string, field?: FieldSelector): AnyObject[] {
    const objects = this.byKind.get(kind);
    const items: AnyObject[] = [];
    if (field) {
      const keys = this.index(kind, field.path).get(field.value);
      if (!keys || !objects) return items;
      for (const key of keys) {
        const o = objects.get(key) as AnyObject;
        if (namespace === undefined || o.metadata.namespace === namespace) items.push(o);
      }
      return items;
    }
    if (!objects) return items;
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
    const key = mirrorKey(obj.metadata.namespace, obj.metadata.name);
    const prev = objects.get(key);
    objects.set(key, obj);
    const indexes = this.indexes.get(obj.kind);
    if (!indexes) return;
    for (const [path, index] of indexes) {
      const value = fieldValue(obj, path);
      if (prev) {
        const before = fieldValue(prev, path);
        if (before === value) continue;
        removeKey(index, before, key);
      }
      addKey(index, value, key);
    }
  }

  delete(kind: Kind, namespace: string | undefined, name: string): void {
    const objects = this.byKind.get(kind);
    const key = mirrorKey(namespace, name);
    const prev = objects?.get(key);
    if (!objects || !prev) return;
    objects.delete(key);
    for (const [path, index] of this.indexes.get(kind) ?? []) removeKey(index, fieldValue(prev, path), key);
  }

  get size(): number {
    let n = 0;
    for (const objects of this.byKind.values()) n += objects.size;
    return n;
  }

  /** The index of `kind` by `path`, built now from the objects if this is its first use. */
  private index(kind: Kind, path: FieldPath): FieldIndex {
    let indexes = this.indexes.get(kind);
    if (!indexes) {
      indexes = new Map();
      this.indexes.set(kind, indexes);
    }
    let index = indexes.get(path);
    if (!index) {
      index = new Map();
      for (const [key, o] of this.byKind.get(kind) ?? []) addKey(index, fieldValue(o, path), key);
      indexes.set(path, index);
    }
    return index;
  }
}

function addKey(index: FieldIndex, value: string | undefined, key: string): void {
  let keys = index.get(value);
  if (!keys) {
    keys = new Set();
    index.set(value, keys);
  }
  keys.add(key);
}

function removeKey(index: FieldIndex, value: string | undefined, key: string): void {
  const keys = index.get(value);
  // Drop empty sets: node names come and go, and each would otherwise stay forever.
  if (keys?.delete(key) && keys.size === 0) index.delete(value);
}
