// The work queues' keys for namespaced objects. (What an instance's phase means is core's
// instance-lifecycle.ts.)

/** `namespace/name`, the key of a namespaced object in the work queues. */
export function nsKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
