// Small facts about instances that several controllers share.
import type { Instance } from '../core/index.js';

/** Phases after which an instance never runs again: it is replaced, not repaired. */
export function isFinished(i: Instance): boolean {
  const p = i.status?.phase;
  return p === 'Failed' || p === 'Lost' || p === 'Succeeded';
}

export function isLive(i: Instance): boolean {
  return !isFinished(i);
}

export function isReady(i: Instance): boolean {
  return i.status?.ready === true && isLive(i);
}

export function isUnboundPending(i: Instance): boolean {
  return !i.spec.node && (i.status?.phase ?? 'Pending') === 'Pending';
}

/** `namespace/name`, the key of a namespaced object in the work queues. */
export function nsKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
