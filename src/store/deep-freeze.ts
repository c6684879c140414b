// Stored objects are shared by every reader (get, list, watch events) without copying, so they
// are frozen once, when written: a reader that mutates one by mistake gets a TypeError instead of
// silently changing what every other reader and the store itself see.

/** Freezes `value` and everything reachable from it; returns it for chaining. Plain JSON data only. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
