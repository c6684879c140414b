// The namespace the lists show ('*': every namespace the token may see), kept per tab.
import { useSyncExternalStore } from 'react';

const KEY = 'gantry.namespace';
const listeners = new Set<() => void>();

export function currentNamespace(): string {
  return sessionStorage.getItem(KEY) ?? 'default';
}

export function setNamespace(ns: string): void {
  sessionStorage.setItem(KEY, ns);
  for (const f of listeners) f();
}

export function useNamespace(): string {
  return useSyncExternalStore(
    (f) => (listeners.add(f), () => listeners.delete(f)),
    currentNamespace,
  );
}
